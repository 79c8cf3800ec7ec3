"""Building the bolt `AsyncApp` and registering everything on it.

Single-workspace mode uses `SLACK_BOT_TOKEN`; OAuth mode (`SLACK_CLIENT_ID` + `SLACK_CLIENT_SECRET`)
keeps each workspace's installation in our database. `SLACK_API_URL` points the Web API client
elsewhere (GovSlack, a local stand-in); bolt copies the base URL into its per-request clients.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse

from bot.deps import Deps
from handlers.slack import actions, commands, errors, inbox, meeting_modal, messages, submissions
from handlers.slack.client import SLACK_API, api_url, web_client
from handlers.slack.installations import DatabaseInstallationStore, DatabaseStateStore
from handlers.slack.people import Directory

BOT_SCOPES = ("chat:write", "commands", "files:write", "im:history", "im:write", "mpim:write", "users:read")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def oauth_settings(deps: Deps) -> AsyncOAuthSettings:
    settings = deps.settings
    assert settings.slack_client_id is not None
    assert settings.slack_client_secret is not None
    authorize = None
    if api_url(settings) != SLACK_API:  # GovSlack & co. serve the consent page next to their API
        authorize = api_url(settings).removesuffix("api/") + "oauth/v2/authorize"
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorize,
        installation_store=DatabaseInstallationStore(deps.sessions, deps.settings.secret_keys),
        state_store=DatabaseStateStore(deps.sessions, deps.clock),
    )


def build_app(deps: Deps, *, replay: bool = False) -> AsyncApp:
    """The bolt app with every listener registered. Request signatures are always verified, except
    by the worker's `replay` app: it processes requests stored after the gate verified them (their
    signatures are stale by then), and waits for each listener to finish (process_before_response)."""
    settings = deps.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    options: dict[str, Any] = {"signing_secret": secret}
    if replay:
        options.update(request_verification_enabled=False, process_before_response=True)
    if settings.slack_client_id and settings.slack_client_secret:
        app = AsyncApp(client=web_client(settings), oauth_settings=oauth_settings(deps), **options)
    else:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        app = AsyncApp(client=web_client(settings, token), **options)
    register(app, deps)
    return app


def deps_middleware(deps: Deps, directory: Directory) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def put_deps(context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        context["deps"] = deps
        context["directory"] = directory
        return await next()

    return put_deps


def register(app: AsyncApp, deps: Deps) -> None:
    """Listeners reach `Deps` through one middleware: `context["deps"]`."""
    app.middleware(deps_middleware(deps, Directory()))
    app.middleware(inbox.mark_listened)
    app.error(errors.on_error)
    app.listener_runner.listener_completion_handler = inbox.Settle(deps)  # records a stored request's end
    commands.register(app)
    messages.register(app)
    actions.register(app)
    submissions.register(app)
    meeting_modal.register(app)
