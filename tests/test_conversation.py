"""The offer/need conversation and the core commands, as transcripts through the console adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.ports import Address, Incoming, Sender
from bot.runtime.compose import build_deps
from handlers.application.conversation import Conversations
from handlers.console import Console, console_sender
from storage.models import (
    ConversationState,
    Match,
    MatchStatus,
    Member,
    ParkedDraft,
    Post,
    PostFormat,
    PostKind,
    PostStatus,
    Role,
)
from tests.membership_support import open_group

DESCRIPTION = (
    "We reserved catering contracts for work-integration social enterprises and wrote social clauses "
    "into the public tender; we can share the templates and what we learned."
)

Talk = Callable[..., Console]


@pytest.fixture
def talk(deps: Deps) -> Talk:
    def make(identity: str = "Ana Ruiz@Bilbao City Council") -> Console:
        return Console(deps, console_sender(identity))

    return make


def joined(lines: list[str]) -> str:
    return "\n".join(lines)


def posts(deps: Deps) -> list[Post]:
    with deps.sessions() as session:
        return list(session.exec(select(Post).order_by(Post.id)).all())  # type: ignore[arg-type]


def test_offer_dialog_saves_the_offer(talk: Talk, deps: Deps) -> None:
    ana = talk()
    assert joined(ana.say("/offer")) == "What can you offer? A short title, please."
    assert "describe your offer" in joined(ana.say("Social clauses in public tenders"))
    topics = joined(ana.say(DESCRIPTION))
    assert "✓ 1. Public procurement" in topics  # detected from the text, pre-selected
    summary = joined(ana.say("done"))
    assert "Title: Social clauses in public tenders" in summary
    assert "Format: Call" in summary
    assert "Available until: no end date" in summary
    assert "Which format" in joined(ana.say("format"))
    assert "Format: Workshop" in joined(ana.say("workshop"))
    assert "Available until: 2027-06-30" in joined(ana.say("until 2027-06-30"))
    saved = joined(ana.say("save"))
    assert "Saved your offer #" in saved
    [post] = posts(deps)
    assert post.title == "Social clauses in public tenders"
    assert post.description == DESCRIPTION
    assert post.topics[0] == "public-procurement"
    assert post.format == PostFormat.workshop
    assert post.available_until is not None
    assert post.available_until.isoformat() == "2027-06-30"
    assert post.status == PostStatus.open
    assert post.ref.startswith("offer-")
    assert post.created_at.tzinfo is not None
    assert f"#{post.id} · offer · Social clauses in public tenders · open" in joined(ana.say("/mine"))


def test_a_conversation_survives_a_restart(deps: Deps) -> None:
    sender = console_sender("Piotr@Warsaw City Hall")
    Console(deps, sender).say("/need")
    Console(deps, sender).say("Collaborative management of community centres")
    deps.engine.dispose()

    restarted = build_deps(deps.settings, clock=deps.clock, migrate=False)
    try:
        again = Console(restarted, sender)
        assert "Which topics fit?" in joined(
            again.say("We co-designed three centres and now want residents to co-manage them.")
        )
        assert "Your need:" in joined(again.say("done"))
        assert "Saved your need" in joined(again.say("save"))
        [post] = posts(restarted)
        assert post.title == "Collaborative management of community centres"
        assert post.description.startswith("We co-designed three centres")
    finally:
        restarted.engine.dispose()


def test_too_long_text_is_kept_and_can_be_trimmed(talk: Talk, deps: Deps) -> None:
    ana = talk()
    ana.say("/offer")
    reply = joined(ana.say("x" * 20_000))
    assert "20000 characters; the limit is 120" in reply
    assert "What can you offer" not in reply  # still on the same step
    assert "describe your offer" in joined(ana.say("trim"))
    with deps.sessions() as session:
        state = session.exec(select(ConversationState)).one()
    assert len(state.draft["post"]["title"]) <= 120
    assert state.draft["post"]["title"].endswith("…")


def test_hostile_text_is_stored_as_text(talk: Talk, deps: Deps) -> None:
    ana = talk()
    ana.say("/offer")
    ana.say("<!channel> <b>bold</b> \u202eevil\u0007 שלום 🌍")
    ana.say(DESCRIPTION)
    ana.say("done")
    ana.say("save")
    [post] = posts(deps)
    # Markup stays literal (each adapter escapes it when rendering); controls and bidi overrides go.
    assert post.title == "<!channel> <b>bold</b> evil שלום 🌍"


def test_empty_and_unknown_input_get_polite_replies(talk: Talk) -> None:
    ana = talk()
    assert "empty" in joined(ana.say("   \u0000 "))
    assert "I don't know the command /frobnicate" in joined(ana.say("/frobnicate now"))
    assert "did not understand" in joined(ana.say("is there parking near the town hall?"))
    ana.say("/offer")
    assert "looks empty" in joined(ana.say("\u200f\u202e"))


def test_a_new_command_parks_the_draft_and_offers_it_back(talk: Talk, deps: Deps) -> None:
    ana = talk()
    ana.say("/offer")
    ana.say("Social clauses in public tenders")
    interrupted = joined(ana.say("/mine"))
    assert "unfinished offer “Social clauses in public tenders” aside" in interrupted
    with deps.sessions() as session:
        assert session.exec(select(ParkedDraft)).one().step == "description"
    assert "unfinished offer" in joined(ana.say("/offer"))
    assert "describe your offer" in joined(ana.say("continue"))
    ana.say(DESCRIPTION)
    ana.say("done")
    ana.say("save")
    assert [p.title for p in posts(deps)] == ["Social clauses in public tenders"]
    with deps.sessions() as session:
        assert session.exec(select(ParkedDraft)).first() is None


def test_edit_and_withdraw(talk: Talk, deps: Deps) -> None:
    ana, bob = talk(), talk("Bob@Dublin City Council")
    for line in ("/offer", "Social clauses", DESCRIPTION, "done", "save"):
        ana.say(line)
    [post] = posts(deps)
    assert "belongs to someone else" in joined(bob.say(f"/withdraw {post.id}"))
    assert "belongs to someone else" in joined(bob.say(f"/edit {post.id}"))
    assert "can't find #999" in joined(ana.say("/withdraw 999"))
    assert "Which one?" in joined(ana.say("/withdraw soon"))
    assert "Your offer:" in joined(ana.say(f"/edit {post.id}"))
    ana.say("edit title")
    assert "Title: Social clauses for catering tenders" in joined(ana.say("Social clauses for catering tenders"))
    assert "Updated your offer" in joined(ana.say("save"))
    assert "Withdrawn" in joined(ana.say(f"/withdraw {post.id}"))
    assert "already been withdrawn" in joined(ana.say(f"/withdraw {post.id}"))
    [post] = posts(deps)
    assert (post.title, post.status) == ("Social clauses for catering tenders", PostStatus.withdrawn)


def test_organisation_is_asked_when_unknown(talk: Talk, deps: Deps) -> None:
    guest = talk("Sam")
    assert "Which organisation" in joined(guest.say("/need"))
    assert "What do you need to learn?" in joined(guest.say("Rotterdam Impact Hub"))
    with deps.sessions() as session:
        member = session.exec(select(Member)).one()
    assert member.organisation_id is not None


def test_topics_toggle_by_number_and_name_in_any_language(talk: Talk, deps: Deps) -> None:
    ana = talk()
    for line in ("/need", "Learning", "We want to learn from other cities."):
        ana.say(line)
    assert "✓ 1. Public procurement" in joined(ana.say("1"))
    assert "· 1. Public procurement" in joined(ana.say("Compra pública"))  # toggled off by its Spanish label
    assert "don't know the topic “astrology”" in joined(ana.say("astrology"))


def test_wrong_dates_are_refused_politely(talk: Talk) -> None:
    ana = talk()
    for line in ("/offer", "Awards", DESCRIPTION, "done"):
        ana.say(line)
    assert "not a date I can read" in joined(ana.say("until 31/02/2027"))
    assert "in the past" in joined(ana.say("2001-01-01"))
    assert "Available until: no end date" in joined(ana.say("none"))


def test_language_switch(talk: Talk) -> None:
    ana = talk()
    assert "Español" in joined(ana.say("/language es"))
    assert "¿Qué" in joined(ana.say("/offer"))
    assert "I don't know that language" in joined(talk("Bob@Dublin").say("/language klingon"))


def test_group_chats_send_conversations_to_private(deps: Deps) -> None:
    sender = console_sender("Ana@Bilbao")
    group = Address(platform="console", workspace="local", chat="group-1")
    [reply] = Conversations(deps).handle(Incoming(sender=sender, chat=group, text="/offer", is_private=False))
    assert reply.private_link


def test_peer_commands_need_the_facilitator_role(deps: Deps) -> None:
    sender = replace(console_sender("Ana@Bilbao"), is_platform_admin=False)
    group = Address(platform="console", workspace="local", chat="group-1")
    conversations = Conversations(deps)

    def say(text: str) -> str:
        incoming = Incoming(sender=sender, chat=group, text=text, is_private=False)
        return "\n".join(reply.text for reply in conversations.handle(incoming))

    assert "for facilitators" in say("/peer channel here")
    with deps.sessions() as session:
        member = session.exec(select(Member)).one()
        member.role = Role.facilitator
        session.add(member)
        session.commit()
    assert "this channel now receives" in say("/peer channel here")
    assert "I don't know “/peer dance”" in say("/peer dance")
    assert "I don't know “bob-0a1b2c3d” in this partnership" in say("/peer role bob-0a1b2c3d facilitator")
    bob = Sender(platform="console", workspace="local", user_id="bob-0a1b2c3d")
    conversations.handle(Incoming(sender=bob, chat=group, text="/help", is_private=False))
    assert "is now a facilitator" in say("/peer role bob-0a1b2c3d facilitator")


def test_instant_suggestions_skip_paused_members(talk: Talk) -> None:
    bob, ana = talk("Bob@Dublin City Council"), talk()
    for line in ("/offer", "Social clauses in catering tenders", DESCRIPTION, "done", "save"):
        bob.say(line)
    need = "We want to reserve public tenders for work-integration social enterprises with social clauses."
    first = joined([*ana.say("/need"), *ana.say("Social clauses for tenders"), *ana.say(need), *ana.say("done")])
    assert "Your need:" in first
    assert "“Social clauses in catering tenders” — Dublin City Council" in joined(ana.say("save"))
    assert "January 31, 2027" in joined(bob.say("/pause until 2027-01-31"))
    for line in ("/need", "Reserved tenders for social enterprises", need, "done"):
        ana.say(line)
    assert "Dublin City Council" not in joined(ana.say("save"))


def test_a_role_for_someone_who_cannot_be_identified_is_refused(deps: Deps) -> None:
    from bot.ports import Sender

    admin = Sender(platform="telegram", workspace="555", user_id="42", is_platform_admin=True)
    group = open_group(deps, workspace="555", chat="-100")  # registered: its admins facilitate
    conversations = Conversations(deps)
    conversations.handle(
        Incoming(sender=replace(admin, user_id="777", is_platform_admin=False), chat=group, text="/help")
    )

    def say(text: str) -> str:
        incoming = Incoming(sender=admin, chat=group, text=text, is_private=False)
        return "\n".join(reply.text for reply in conversations.handle(incoming))

    assert "can't tell who “@bruno” is" in say("/peer role @bruno facilitator")
    assert "is now a facilitator" in say("/peer role 777 facilitator")
    with deps.sessions() as session:
        granted = session.exec(select(Member).where(Member.role == Role.facilitator)).all()
    assert len(granted) == 1


def test_instant_suggestions_can_be_accepted_at_once(talk: Talk, deps: Deps) -> None:
    bob, ana = talk("Bob@Dublin City Council"), talk()
    for line in ("/offer", "Social clauses in catering tenders", DESCRIPTION, "done", "save"):
        bob.say(line)
    need = "We want to reserve public tenders for work-integration social enterprises with social clauses."
    for line in ("/need", "Social clauses for tenders", need, "done"):
        ana.say(line)
    saved = joined(ana.say("save"))
    with deps.sessions() as session:
        [match] = session.exec(select(Match)).all()
    card = (
        f"#{match.id} · your “Social clauses for tenders” ↔ “Social clauses in catering tenders” — Dublin City Council"
    )
    assert card in saved
    assert f"[/accept {match.id}] Accept #{match.id}" in saved
    assert f"#{match.id} · your “Social clauses for tenders”" in joined(ana.say("/matches"))
    assert "When the other side accepts" in joined(ana.say(f"/accept {match.id}"))
    assert "introducing you now" in joined(bob.say(f"/accept {match.id}"))
    need_post = next(post for post in posts(deps) if post.kind == PostKind.need)
    ana.say(f"/edit {need_post.id}")
    ana.say("save")  # suggested again: the pair keeps its row and its history
    with deps.sessions() as session:
        [match] = session.exec(select(Match)).all()
    assert match.status == MatchStatus.introduced
