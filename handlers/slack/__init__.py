"""The Slack adapter (slack-bolt, async): Slack payloads in, neutral `Incoming` out; `Reply` in,
Block Kit out. No business rules live here: every command and message goes through
`handlers.application.conversation.Conversations.handle`.

Entry points for the composition root:
- `handlers.slack.web.slack_routes(deps)`: `POST /slack/events` and the OAuth install/redirect routes,
  with the lifespan that lets the work after each ack finish when serve stops;
- `handlers.slack.socket_mode.run_socket_mode(deps)`: Socket Mode for the worker (`SLACK_APP_TOKEN`);
- `handlers.slack.notifier.SlackNotifier`: sends outbox messages (introductions, reminders, digests).
"""
