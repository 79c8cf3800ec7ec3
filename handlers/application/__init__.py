"""The platform-neutral application: the dispatcher, a turn, the command registry, flows and commands.

Adapters (Slack, Telegram, console) feed it neutral `Incoming` messages and render its `Reply`s."""
