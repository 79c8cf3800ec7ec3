"""Organisations are claimed, not typed: look-alike names are one organisation (never matched with
itself), a newcomer who names an existing one waits for approval, duplicates from before are merged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session, select

from bot.deps import Deps
from bot.i18n import translator
from bot.matching.eligibility import Refusal, pair_refusal
from bot.organisations import key
from bot.ports import Sender
from bot.transfer import import_file
from handlers.console import Console, console_sender
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.models import Delivery, Invite, Match, Member, Organisation, Post, PostKind, Role
from storage.queries import default_community

EN = translator("en")
DUBLIN = ("Dublin City Council", "dublin city council", "Dublin\u200b City Council", "Dublin \u0421ity Council")


def member(deps: Deps, sender: Sender) -> Member:
    with deps.sessions() as session:
        found = session.exec(select(Member).where(Member.display_name == sender.display_name)).one()
        return found


def organisations(deps: Deps) -> list[str]:
    with deps.sessions() as session:
        return sorted(o.name for o in session.exec(select(Organisation)).all())


def write(deps: Deps, sender: Sender, kind: str, title: str, description: str) -> list[str]:
    console = Console(deps, sender)
    for line in (f"/{kind}", title, description, "done"):
        console.say(line)
    return console.say("save")


def test_the_four_dublin_spellings_are_one_organisation_never_matched_with_itself(deps: Deps) -> None:
    assert len({key(name) for name in DUBLIN}) == 1
    assert key("Dublin City Council") != key("Cork City Council")
    people = [console_sender(f"Person {n}@{name}") for n, name in enumerate(DUBLIN)]
    for person in people:
        Console(deps, person).say("/help")
    assert organisations(deps) == ["Dublin City Council"]
    write(deps, people[0], "offer", "Retrofitting social housing", "We retrofitted 2,000 social homes with heat pumps.")
    for person in people[1:]:
        write(deps, person, "need", "Retrofitting social housing", "We want to retrofit social homes with heat pumps.")
    with deps.sessions() as session:
        offer = session.exec(select(Post).where(Post.kind == PostKind.offer)).one()
        needs = session.exec(select(Post).where(Post.kind == PostKind.need)).all()
        assert len(needs) == 3
        for need in needs:
            assert pair_refusal(session, need, offer, deps.clock.now()) is Refusal.same_organisation
        assert session.exec(select(Match)).all() == []  # the instant suggestions paired none of them


def test_sanne_is_found_however_she_spells_her_organisation(deps: Deps) -> None:
    sanne = Console(deps, console_sender("Sanne@Gemeente Rotterdam"))
    sanne.say("/offer")
    for line in ("Participatory budgeting", "Our districts decide on 5% of the budget.", "done", "save"):
        sanne.say(line)
    mine = Console(deps, console_sender("Sanne@gemeente  rotterdam")).say("/mine")
    assert "Participatory budgeting" in mine[0]


def torino(deps: Deps, tmp_path: Path) -> int:
    """Torino's imported offer (no author: its organisation speaks for it) matched with Bob's need."""
    Console(deps, replace(console_sender("Marta@Città di Torino"), is_platform_admin=False)).say("/help")
    rows = tmp_path / "torino.csv"
    rows.write_text(
        "ref,kind,organization,title,description\n"
        "to1,offer,Città di Torino,Co-design of public spaces,We co-designed 40 squares with residents.\n"
    )
    with transaction(deps.sessions) as session:
        import_file(session, rows, default_language="en", encoder=deps.encoder)
    write(deps, BOB, "need", "Co-design of public spaces", "We want residents to co-design our squares.")
    with transaction(deps.sessions) as session:
        offer = session.exec(select(Post).where(Post.kind == PostKind.offer)).one()
        need = session.exec(select(Post).where(Post.kind == PostKind.need)).one()
        match = session.exec(select(Match)).first() or Match(
            community_id=offer.community_id, need_id=need.id or 0, offer_id=offer.id or 0, score=0.9
        )
        session.add(match)
        session.flush()
        assert match.id is not None
        return match.id


BOB = replace(console_sender("Bob@Warsaw City Hall"), is_platform_admin=False)
EVE = replace(console_sender("Eve@citta di torino"), is_platform_admin=False)
TOM = replace(console_sender("Tom@Partnership office"), is_platform_admin=False)


def make_facilitator(deps: Deps, sender: Sender) -> None:
    Console(deps, sender).say("/help")
    with transaction(deps.sessions) as session:
        found = session.exec(select(Member).where(Member.display_name == sender.display_name)).one()
        found.role = Role.facilitator
        session.add(found)


def impersonator_refused(deps: Deps, match_id: int) -> int:
    eve = Console(deps, EVE)
    eve.say("/help")
    pending = member(deps, EVE)
    assert pending.organisation_pending
    assert "citta di torino" not in organisations(deps)  # no second Torino: she waits to join the first
    assert eve.say("/matches") == [EN.t("core.matches_none")]
    assert eve.say(f"/accept {match_id}") == [EN.t("core.match_not_yours", number=match_id)]
    assert eve.say(f"/decline {match_id}") == [EN.t("core.match_not_yours", number=match_id)]
    assert eve.say(f"/approve {pending.id}") == [EN.t("people.approve_refused")]  # not herself
    assert pending.id is not None
    return pending.id


def test_an_impersonator_waits_until_a_facilitator_approves(deps: Deps, tmp_path: Path) -> None:
    make_facilitator(deps, TOM)
    match_id = torino(deps, tmp_path)
    eve_id = impersonator_refused(deps, match_id)
    tom = Console(deps, TOM)
    waiting = tom.say("/peer org")[0]
    assert EN.n("people.pending_header", 1) in waiting
    assert "Eve" in waiting
    assert tom.say(f"/peer org approve {eve_id}") == [
        EN.t("people.approved", name="Eve", organisation="Città di Torino")
    ]
    eve = Console(deps, EVE)
    assert "Co-design of public spaces" in eve.say("/matches")[0]
    assert eve.say(f"/accept {match_id}") == [EN.t("core.match_accepted", number=match_id)]


def test_the_button_in_the_facilitators_private_message_approves(deps: Deps, tmp_path: Path) -> None:
    make_facilitator(deps, TOM)
    match_id = torino(deps, tmp_path)
    eve_id = impersonator_refused(deps, match_id)
    with deps.sessions() as session:
        tom = member(deps, TOM)
        [notice] = session.exec(select(Delivery).where(Delivery.member_id == tom.id)).all()
    expected = EN.t("people.approval_asked", name="Eve", organisation="Città di Torino")
    assert notice.payload["text"] == expected
    [button] = notice.payload["buttons"]
    assert button["value"] == f"/peer org approve {eve_id}"
    assert Console(deps, TOM).say(button["value"]) == [
        EN.t("people.approved", name="Eve", organisation="Città di Torino")
    ]
    assert not member(deps, EVE).organisation_pending
    assert Console(deps, EVE).say(f"/decline {match_id}") == [EN.t("core.match_declined", number=match_id)]


def test_a_colleague_approves_with_approve(deps: Deps, tmp_path: Path) -> None:
    match_id = torino(deps, tmp_path)
    eve_id = impersonator_refused(deps, match_id)
    marta = replace(console_sender("Marta@Città di Torino"), is_platform_admin=False)
    assert Console(deps, marta).say(f"/approve {eve_id}") == [
        EN.t("people.approved", name="Eve", organisation="Città di Torino")
    ]


def test_an_invite_for_the_organisation_needs_no_approval(deps: Deps, tmp_path: Path) -> None:
    make_facilitator(deps, TOM)
    torino(deps, tmp_path)
    Console(deps, TOM).say("/peer invite Città di Torino")
    with deps.sessions() as session:
        code = session.exec(select(Invite)).one().code
    Console(deps, EVE).say(f"/start {code}")
    assert not member(deps, EVE).organisation_pending


def duplicate(session: Session, community_id: int, name: str) -> Organisation:
    """An organisation as typed before names were compared by key."""
    organisation = Organisation(community_id=community_id, name=name, key=f"legacy:{name}")
    session.add(organisation)
    session.flush()
    return organisation


def posts_and_match(session: Session, community_id: int, need_org: int, offer_org: int) -> int:
    need = Post(community_id=community_id, organisation_id=need_org, ref="n1", kind=PostKind.need, title="Heat pumps")
    offer = Post(community_id=community_id, organisation_id=offer_org, ref="o1", kind=PostKind.offer, title="Pumps")
    session.add_all([need, offer])
    session.flush()
    match = Match(community_id=community_id, need_id=need.id or 0, offer_id=offer.id or 0, score=0.93)
    session.add(match)
    session.flush()
    return match.id or 0


def test_peer_org_merge_joins_duplicates_with_posts_and_matches(deps: Deps) -> None:
    make_facilitator(deps, TOM)
    with transaction(deps.sessions) as session:
        community = default_community(session=session).id or 0
        real, fake = duplicate(session, community, DUBLIN[0]), duplicate(session, community, DUBLIN[3])
        real_id, fake_id = real.id, fake.id
        match_id = posts_and_match(session, community, real.id or 0, fake.id or 0)
    replies = Console(deps, TOM).say(f'/peer org merge "{DUBLIN[0]}" "{DUBLIN[3]}"')
    assert replies == [EN.n("people.merged", 1, kept=DUBLIN[0], merged=DUBLIN[3])]
    with deps.sessions() as session:
        assert session.get(Organisation, fake_id) is None
        assert {post.organisation_id for post in session.exec(select(Post)).all()} == {real_id}
        match = session.get(Match, match_id)
        assert match is not None
        need, offer = session.get(Post, match.need_id), session.get(Post, match.offer_id)
        assert need is not None
        assert offer is not None
        assert pair_refusal(session, need, offer, deps.clock.now()) is Refusal.same_organisation


def test_peerlink_orgs_merge_on_the_command_line(deps: Deps) -> None:
    from bot.runtime.cli import cli

    with transaction(deps.sessions) as session:
        community = default_community(session=session).id or 0
        real, fake = duplicate(session, community, "Gemeente Rotterdam"), duplicate(session, community, "Rotterdam")
        posts_and_match(session, community, real.id or 0, fake.id or 0)
    env = {"DATABASE_URL": deps.settings.database_url}
    result = CliRunner().invoke(cli, ["orgs", "merge", "Gemeente Rotterdam", "Rotterdam"], env=env)
    assert result.exit_code == 0, result.output
    assert EN.n("people.merged", 1, kept="Gemeente Rotterdam", merged="Rotterdam") in result.output
    assert organisations(deps) == ["Gemeente Rotterdam"]
    unknown = CliRunner().invoke(cli, ["orgs", "merge", "Gemeente Rotterdam", "Nowhere"], env=env)
    assert unknown.exit_code != 0
    assert EN.t("people.organisation_unknown", organisation="Nowhere") in unknown.output


def test_the_migration_merges_duplicates_with_the_same_normal_form(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0008")
        with engine.begin() as connection:
            run = connection.execute
            for n, name in enumerate(DUBLIN, start=1):
                run(text("INSERT INTO organisation (id, community_id, name, kind, created_at) "
                         "VALUES (:i, 1, :n, 'other', '2026-01-01 00:00:00+00:00')"), {"i": n, "n": name})  # fmt: skip
            for n in (1, 2, 3, 4):
                run(text("INSERT INTO member (id, community_id, organisation_id, display_name, role, created_at) "
                         "VALUES (:i, 1, :i, 'P', 'member', '2026-01-01 00:00:00+00:00')"), {"i": n})  # fmt: skip
                run(text("INSERT INTO post (id, community_id, organisation_id, member_id, ref, kind, title, "
                         "description, topics, language, status, created_at, updated_at) VALUES (:i, 1, :i, :i, "
                         ":r, 'offer', 'T', '', '[]', 'en', 'open', '2026-01-01 00:00:00+00:00', "
                         "'2026-01-01 00:00:00+00:00')"), {"i": n, "r": f"r{n}"})  # fmt: skip
        upgrade(engine)
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT id, name FROM organisation ORDER BY id")).all()
            owners = connection.execute(text("SELECT DISTINCT organisation_id FROM post ORDER BY 1")).scalars().all()
        # case and the zero-width space are the same normal form; the Cyrillic look-alike is for `orgs merge`
        assert [tuple(row) for row in kept] == [(1, DUBLIN[0]), (4, DUBLIN[3])]
        assert owners == [1, 4]
    finally:
        engine.dispose()


def test_a_look_alike_left_by_the_migration_never_takes_the_original_s_place(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        community = default_community(session=session).id or 0
        for name in (DUBLIN[0], DUBLIN[3]):  # written without keys, as the migration leaves them
            session.add(Organisation(community_id=community, name=name))
    ana_sender = replace(console_sender("Ana@DUBLIN CITY COUNCIL"), is_platform_admin=False)
    Console(deps, ana_sender).say("/help")
    ana = member(deps, ana_sender)
    with deps.sessions() as session:
        organisation = session.get(Organisation, ana.organisation_id)
        assert organisation is not None
        assert organisation.name == DUBLIN[0]
