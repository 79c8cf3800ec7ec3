"""`peerlink`: the console command. Each sub-command builds `Deps` from settings and delegates."""

from __future__ import annotations

import logging

import click

from bot.app import Deps, build_deps
from bot.config import Settings
from storage.migrate import upgrade


def _deps(ctx: click.Context) -> Deps:
    deps = ctx.obj.get("deps") if ctx.obj else None
    if deps is None:
        deps = build_deps(Settings())
        ctx.ensure_object(dict)["deps"] = deps
    return deps


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default: LOG_LEVEL or INFO).")
@click.pass_context
def cli(ctx: click.Context, log_level: str | None) -> None:
    """Peerlink: offers, needs, peer matches, working groups and meetings."""
    ctx.ensure_object(dict)
    logging.basicConfig(
        level=(log_level or Settings().log_level).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (the release phase)."""
    deps = build_deps(Settings(), migrate=False)
    upgrade(deps.engine)
    click.echo("database is up to date")


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104  (a web process must listen publicly)
@click.option("--port", type=int, default=None, help="Default: PORT.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int | None) -> None:
    """Run the web process: Slack events, the Telegram webhook and /healthz."""
    import uvicorn

    from bot.web import build_web_app

    deps = _deps(ctx)
    uvicorn.run(build_web_app(deps), host=host, port=port or deps.settings.port, log_level="info")


def main() -> None:
    cli(obj={})
