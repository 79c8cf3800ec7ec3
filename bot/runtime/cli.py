"""`peerlink`: the console command. Each sub-command builds `Deps` from settings and delegates."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import click

from bot.config import Settings
from bot.deps import Deps
from bot.i18n import N_, language_choices, language_from_name, translator
from bot.runtime.compose import adopt_settings_once, build_deps, derived_secrets, wait_for_database, warm_up
from bot.runtime.logs import logging_to_stderr
from storage.migrate import upgrade


def _deps(ctx: click.Context) -> Deps:
    deps = ctx.obj.get("deps") if ctx.obj else None
    if deps is None:
        deps = build_deps(Settings())
        ctx.ensure_object(dict)["deps"] = deps
        ctx.call_on_close(deps.engine.dispose)  # no connection outlives the command
    return deps


@click.group()
@click.option(
    "-v", "--verbose", count=True, help="Log more on stderr: -v info, -vv debug (default: warnings, or LOG_LEVEL)."
)
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Peerlink: offers, needs, peer matches, working groups and meetings."""
    ctx.ensure_object(dict)
    settings = Settings()
    ctx.with_resource(logging_to_stderr(verbose, settings, extra_secrets=derived_secrets(settings)))


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (the release phase)."""
    deps = build_deps(Settings(), migrate=False)
    try:
        upgrade(deps.engine, secret_keys=deps.settings.secret_keys)
        adopt_settings_once(deps.engine, deps.settings)
    finally:
        deps.engine.dispose()
    click.echo(translator(deps.settings.default_language).t("core.cli_database_ready"))


@cli.group()
def secrets() -> None:
    """Keys that seal stored credentials (PEERLINK_SECRET_KEY)."""


@secrets.command("new-key")
def secrets_new_key() -> None:
    """Print a new key: put it first in PEERLINK_SECRET_KEY (comma-separated, newest first)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@secrets.command("rotate")
@click.pass_context
def secrets_rotate(ctx: click.Context) -> None:
    """Seal every stored credential again with the first key; the other keys may then be dropped."""
    from bot.credentials import reseal_credentials
    from storage.db import transaction
    from storage.sealed import Sealer, SealError

    deps = _deps(ctx)
    try:
        with transaction(deps.sessions) as session:
            reseal_credentials(session, Sealer(deps.settings.secret_keys))
    except SealError as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(translator(deps.settings.default_language).t("core.cli_credentials_resealed"))


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", type=int, default=None, help="Default: PORT.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int | None) -> None:
    """Run the web process: Slack events, the Telegram webhook and /healthz."""
    from bot.runtime.web import serve as serve_web

    deps = _deps(ctx)
    wait_for_database(deps)
    warming = warm_up(deps)
    try:
        serve_web(deps, host=host, port=port or deps.settings.port)
    finally:
        warming.join()  # a stop during warm-up must not end the process inside the encoder's native code


@cli.group()
def role() -> None:
    """Facilitator and member roles."""


@role.command("grant")
@click.argument("identity")
@click.argument("role_name", type=click.Choice(["facilitator", "member", "admin"]))
@click.option("--partnership", default=None, help="The partnership's name; needed when there are several.")
@click.pass_context
def role_grant(ctx: click.Context, identity: str, role_name: str, partnership: str | None) -> None:
    """Give IDENTITY (slack:<user-id> or telegram:<user-id>) a role in a partnership; works before
    they ever wrote."""
    from sqlmodel import col, select

    from bot.audit import Action, Source, record
    from bot.roles import grant, parse_identity
    from storage.db import transaction
    from storage.models import Community, Role

    try:
        platform, user_id = parse_identity(identity)
    except ValueError as problem:
        raise click.BadParameter(str(problem), param_hint="IDENTITY") from problem
    deps = _deps(ctx)
    tr = translator(deps.settings.default_language)
    with transaction(deps.sessions) as session:
        communities = session.exec(select(Community).order_by(col(Community.id))).all()
        chosen = [c for c in communities if partnership is None or c.name == partnership]
        if len(chosen) != 1:
            names = ", ".join(c.name for c in communities)
            key = N_("membership.cli_partnership_unknown") if partnership else N_("membership.cli_partnership_choose")
            raise click.BadParameter(tr.t(key, names=names), param_hint="--partnership")
        community_id = chosen[0].id
        assert community_id is not None
        member = grant(
            session, community_id=community_id, platform=platform, user_id=user_id, role=Role(role_name), create=True
        )
        assert member is not None
        session.flush()
        record(
            session,
            community_id=member.community_id,
            action=Action.role,
            now=deps.clock.now(),
            subject_member_id=member.id,
            target=role_name,
            source=Source.cli,
        )
    click.echo(tr.t("core.cli_role_granted", identity=identity, role=role_name))


@cli.group()
def orgs() -> None:
    """Organisations."""


@orgs.command("merge")
@click.argument("keep")
@click.argument("merged")
@click.option("--partnership", default=None, help="The partnership's name (default: the first one).")
@click.pass_context
def orgs_merge(ctx: click.Context, keep: str, merged: str, partnership: str | None) -> None:
    """Join MERGED into KEEP (names, any spelling): posts, matches and members move, MERGED goes."""
    from bot.audit import Action, Source, record
    from bot.claims import find_organisation, merge
    from bot.errors import UserError
    from storage.db import transaction
    from storage.queries import community_by_name, default_community

    deps = _deps(ctx)
    tr = translator(deps.settings.default_language)
    try:
        with transaction(deps.sessions) as session:
            found = community_by_name(session=session, name=partnership) if partnership else None
            if partnership and found is None:
                raise UserError(N_("people.partnership_unknown"), partnership=partnership)
            community = found or default_community(session=session)
            assert community.id is not None
            kept = find_organisation(session, community.id, keep)
            gone = find_organisation(session, community.id, merged)
            names, target = (kept.name, gone.name), f"{kept.id} <- {gone.id}"
            moved = merge(session, kept, gone)
            record(
                session,
                community_id=community.id,
                action=Action.org_merge,
                now=deps.clock.now(),
                target=target,
                source=Source.cli,
            )
    except UserError as problem:
        raise click.ClickException(tr.t(problem.key, **problem.values)) from problem
    click.echo(tr.n("people.merged", moved, kept=names[0], merged=names[1]))


@cli.command("forget")
@click.argument("identity")
@click.option(
    "--posts",
    type=click.Choice(["keep", "delete"]),
    required=True,
    help="keep: leave the person's posts to their organisation when others remain in it; delete: erase them.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def forget_command(ctx: click.Context, identity: str, posts: str, yes: bool) -> None:
    """Erase everything about IDENTITY (slack:<user-id> or telegram:<user-id>), as /forgetme does."""
    from bot.audit import Source
    from bot.privacy.erase import forget
    from bot.privacy.person import find_person
    from bot.roles import parse_identity
    from storage.db import transaction

    try:
        platform, user_id = parse_identity(identity)
    except ValueError as problem:
        raise click.BadParameter(str(problem), param_hint="IDENTITY") from problem
    deps = _deps(ctx)
    tr = translator(deps.settings.default_language)
    if not yes:
        click.confirm(tr.t("privacy.cli_confirm", identity=identity), abort=True)
    with transaction(deps.sessions) as session:
        person = find_person(session, platform=platform, user_id=user_id)
        if person is None:
            click.echo(tr.t("privacy.cli_unknown", identity=identity), err=True)
            ctx.exit(1)
        erased = forget(session, person, keep_posts=posts == "keep", now=deps.clock.now(), source=Source.cli)
    click.echo(
        tr.t(
            "privacy.cli_forgotten",
            identity=identity,
            deleted=erased.posts_deleted,
            kept=erased.posts_kept,
            withdrawn=erased.matches_withdrawn,
        )
    )


@cli.command()
@click.option(
    "--as",
    "identity",
    default="Guest@Guest organisation",
    show_default=True,
    help='Who you are: "Name@Organisation".',
)
@click.option("--demo", is_flag=True, help="Load the demo partnership first (safe to repeat).")
@click.option(
    "--files",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where files (calendar invitations, exports) are written. Default: ./peerlink-files",
)
@click.pass_context
def console(ctx: click.Context, identity: str, demo: bool, folder: Path | None) -> None:
    """Chat with the bot in this terminal (line by line when stdin is piped)."""
    from bot.runtime.worker import embedded_worker
    from handlers.console import FILES, Console, ConsoleNotifier, Files, chat, console_sender, open_terminal

    deps = _deps(ctx)
    files = Files(folder or FILES)
    with open_terminal(sys.stdin, sys.stdout) as (lines, screen):
        console = Console(deps, console_sender(identity), files)
        # Ctrl-C at any point from here leaves the same way; while the last messages go out, it
        # only skips waiting for them.
        with contextlib.suppress(KeyboardInterrupt):
            if demo:
                _load_demo(deps)
            with embedded_worker(deps, ConsoleNotifier(screen, files)):
                chat(console, lines, screen)
        screen.show(console.farewell())


def _load_demo(deps: Deps) -> int:
    from bot.demo import load_demo
    from storage.db import transaction

    with transaction(deps.sessions) as session:
        return load_demo(session, deps.encoder)


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_command(ctx: click.Context, file: Path) -> None:
    """Import offers and needs from CSV, JSON or JSON Lines: all rows or none."""
    from bot.transfer import ImportFailed, describe, import_records, read_records
    from storage.db import transaction

    deps = _deps(ctx)
    tr = translator(deps.settings.default_language)
    try:
        records = read_records(file)
        with (
            transaction(deps.sessions) as session,
            click.progressbar(length=len(records), label=tr.t("matching.vectors_progress"), file=sys.stderr) as bar,
        ):
            result = import_records(
                session, records, default_language=deps.settings.default_language, encoder=deps.encoder,
                progress=bar.update,
            )  # fmt: skip
    except ImportFailed as failed:
        for problem in failed.problems:
            click.echo(describe(problem, tr), err=True)
        click.echo(tr.t("transfer.import_failed", count=len(failed.problems)), err=True)
        ctx.exit(1)
    click.echo(tr.t("transfer.imported", count=result.total, created=result.created, updated=result.updated))


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export every post of the community, in the format `peerlink import` reads back."""
    from bot.audit import Action, Source, record
    from bot.transfer import export_rows, write_csv, write_json
    from storage.db import transaction
    from storage.queries import default_community

    deps = _deps(ctx)
    with transaction(deps.sessions) as session:
        rows = export_rows(session)
        community_id = default_community(session=session).id or 0
        record(
            session,
            community_id=community_id,
            action=Action.export,
            now=deps.clock.now(),
            target=len(rows),
            source=Source.cli,
        )
    write = write_csv if fmt == "csv" else write_json
    if output is None:
        buffer = io.StringIO(newline="")
        write(rows, buffer)
        click.echo(buffer.getvalue(), nl=False)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        write(rows, handle)
    tr = translator(deps.settings.default_language)
    click.echo(tr.t("transfer.exported", count=len(rows), path=output))


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the demo partnership: nine partner cities and SSE actors (safe to repeat)."""
    deps = _deps(ctx)
    count = _load_demo(deps)
    click.echo(translator(deps.settings.default_language).t("transfer.demo_loaded", count=count))


@cli.command()
@click.option("--all", "everything", is_flag=True, help="Encode every post again, not only those without a vector.")
@click.pass_context
def reindex(ctx: click.Context, everything: bool) -> None:
    """Store the sentence vector of every post that has none (posts saved before vectors existed),
    and the topic scan of every post whose stored one is missing or of another lexicon."""
    from bot.matching.encoder import backfill, count_stale
    from bot.matching.found import refresh_found
    from storage.db import transaction

    deps = _deps(ctx)
    tr = translator(deps.settings.default_language)
    with transaction(deps.sessions) as session:
        total = count_stale(session, deps.encoder, everything=everything)
        with click.progressbar(length=total, label=tr.t("matching.vectors_progress"), file=sys.stderr) as bar:
            done = backfill(session, deps.encoder, everything=everything, progress=bar.update)
        refresh_found(session)  # the lexicon's scans, quick: no encoder involved
    click.echo(tr.t("matching.reindexed", count=done))


@cli.command()
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run the worker: scheduler and outbox dispatcher, Telegram polling, Slack Socket Mode."""
    from bot.runtime.worker import main as run_worker

    deps = _deps(ctx)
    wait_for_database(deps)
    warming = warm_up(deps)
    try:
        run_worker(deps)
    finally:
        warming.join()  # a stop during warm-up must not end the process inside the encoder's native code


def _known_language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """`--language` takes a code or a name (`es`, `español`, `Spanish`); anything else is an error
    listing the choices, never a silent fallback to English."""
    if value is None:
        return None
    code = language_from_name(value)
    if code is None:
        tr = translator(Settings().default_language)
        raise click.BadParameter(tr.t("core.cli_unknown_language", value=value[:40], options=language_choices()))
    return code


def _community_language(deps: Deps, language: str | None) -> tuple[int, str]:
    """The default community's id, and the language to write in (the option, else the community's)."""
    from bot.i18n import pick_language
    from storage.queries import default_community

    with deps.sessions() as session:
        community = default_community(session=session)
        assert community.id is not None
        return community.id, pick_language(language, community.language)


@cli.command("match")
@click.option("--top", type=click.IntRange(1, 20), default=3, show_default=True, help="Suggestions per need.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "text"]), default="text", show_default=True)
@click.option("--capacity", type=click.IntRange(1), default=None, help="Needs per offer at most (default: 5).")
@click.option(
    "--language", default=None, callback=_known_language, help="Language of the reasons (default: the community's)."
)
@click.option("--record", is_flag=True, help="Store the suggestions as matches (status suggested).")
@click.pass_context
def match_command(
    ctx: click.Context, top: int, fmt: str, capacity: int | None, language: str | None, record: bool
) -> None:
    """One matching round over the community. JSON/CSV: suggestions on stdout, needs without one on stderr."""
    from bot.matching.report import round_csv, round_json, round_text
    from storage.db import transaction

    deps = _deps(ctx)
    community_id, language = _community_language(deps, language)
    with transaction(deps.sessions) as session:
        result = deps.matcher.run_round(session, community_id, top_k=top, capacity=capacity)
        if record:
            deps.matcher.record_round(session, result)
    if fmt == "text":
        click.echo(round_text(result, language))
        return
    out, err = (round_json if fmt == "json" else round_csv)(result, language)
    click.echo(out, nl=fmt == "json")
    click.echo(err, err=True, nl=fmt == "json")


@cli.command("groups")
@click.option("--size", default="3-6", show_default=True, help="Smallest and largest group, e.g. 3-6.")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
@click.option(
    "--language",
    default=None,
    callback=_known_language,
    help="Language of names and reasons (default: the community's).",
)
@click.option("--save", is_flag=True, help="Store the groups as working groups.")
@click.pass_context
def groups_command(ctx: click.Context, size: str, fmt: str, language: str | None, save: bool) -> None:
    """Propose peer working groups of organisations around shared topics."""
    from bot.groups import parse_size, propose_groups, save_groups
    from bot.matching.report import groups_json, groups_text
    from storage.db import transaction

    try:
        min_size, max_size = parse_size(size)
    except ValueError as problem:
        raise click.BadParameter(str(problem), param_hint="--size") from problem
    deps = _deps(ctx)
    community_id, language = _community_language(deps, language)
    with transaction(deps.sessions) as session:
        proposal = propose_groups(session, deps.matcher, community_id, min_size=min_size, max_size=max_size)
        if save:
            save_groups(session, proposal, language=language)
    click.echo(groups_json(proposal, language) if fmt == "json" else groups_text(proposal, language))


@cli.command("map")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PNG file to write.")
@click.option("--by", type=click.Choice(["city", "group"]), default="city", show_default=True, help="Group by.")
@click.option("--language", default=None, help="Language of the labels (default: the community's).")
@click.pass_context
def map_command(ctx: click.Context, out: Path, by: str, language: str | None) -> None:
    """Draw the synergy map: offers meet needs, by city or working group."""
    from bot.picture.synergy_map import draw_map
    from storage.models import Community

    deps = _deps(ctx)
    community_id, language = _community_language(deps, language)
    tr = translator(language)
    with deps.sessions() as session:
        community = session.get_one(Community, community_id)
        png = draw_map(
            session,
            deps.matcher,
            community_id,
            community=community.name,
            tr=tr,
            by="group" if by == "group" else "city",
        )
    if png is None:
        click.echo(tr.t("picture.map_empty"), err=True)
        ctx.exit(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    click.echo(tr.t("picture.cli_written", path=out))


@cli.command("report")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write to."
)
@click.option("--language", default=None, help="Language of the report (default: the community's).")
@click.pass_context
def report_command(ctx: click.Context, out: Path, language: str | None) -> None:
    """Write the partnership report: one self-contained HTML page (map, topics by city, groups, funnel)."""
    from bot.members import zone
    from bot.picture.report import build_report
    from storage.models import Community

    deps = _deps(ctx)
    community_id, language = _community_language(deps, language)
    now = deps.clock.now()
    with deps.sessions() as session:
        community = session.get_one(Community, community_id)
        page = build_report(
            session,
            deps.matcher,
            community_id,
            community=community.name,
            tr=translator(language),
            zone=zone(community.timezone),
            now=now,
        )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"peerlink-report-{now.strftime('%Y%m%d-%H%M')}.html"
    path.write_text(page, encoding="utf-8")
    click.echo(translator(language).t("picture.cli_written", path=path))


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
