"""One organisation-name rule: the conversation, an invite, an import and an identity given by the
platform clean and limit a name the same way, and so name the same organisation."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import translator
from bot.organisations import ORGANISATION_MAX, check_name, named
from bot.transfer import ImportFailed, import_file
from handlers.console import Console, console_sender
from storage.db import transaction
from storage.models import Member, Organisation

EN = translator("en")
TOO_LONG = "x" * (ORGANISATION_MAX + 1)


def test_the_rule() -> None:
    assert check_name("  Bilbao \n City\tCouncil\u202e ") == "Bilbao City Council"
    assert check_name("a" * ORGANISATION_MAX) == "a" * ORGANISATION_MAX
    with pytest.raises(UserError) as empty:
        check_name(" \n ")
    assert empty.value.key == "core.error_empty_organisation"
    with pytest.raises(UserError) as long:
        check_name(TOO_LONG)
    assert (long.value.key, long.value.values) == ("core.error_organisation_long", {"count": ORGANISATION_MAX})
    assert named(TOO_LONG + " tail") == "x" * ORGANISATION_MAX  # a platform's name cannot be refused: it is cut


def organisations(deps: Deps) -> list[str]:
    with deps.sessions() as session:
        return sorted(o.name for o in session.exec(select(Organisation)).all())


def test_the_conversation_and_an_invite_refuse_the_same_names(deps: Deps) -> None:
    ana = Console(deps, console_sender("Ana Ruiz"))  # no organisation yet: the conversation asks
    assert ana.say("/offer") == [EN.t("core.ask_organisation")]
    too_long = EN.t("core.error_organisation_long", count=ORGANISATION_MAX)
    assert ana.say(TOO_LONG) == [too_long]
    assert ana.say("/peer invite " + TOO_LONG) == [too_long]  # the same rule, the same words
    assert organisations(deps) == []
    assert ana.say("/offer")[-1] == EN.t("core.ask_organisation")  # asked again: nothing was kept
    replies = ana.say("  Bilbao   City Council ")
    assert replies[0] == EN.t("core.organisation_set", organisation="Bilbao City Council")
    invite = ana.say("/peer invite Bilbao City    Council")[-1]
    assert "Bilbao City Council" in invite
    assert organisations(deps) == ["Bilbao City Council"]  # one organisation, however it was spaced


def test_an_import_and_an_identity_name_the_same_organisation(deps: Deps, tmp_path: Path) -> None:
    Console(deps, console_sender("Ana Ruiz@ Bilbao  City Council")).say("/help")
    good = tmp_path / "good.csv"
    good.write_text("ref,kind,organization,title,description\nr1,offer,Bilbao   City Council,Title,Text.\n")
    with transaction(deps.sessions) as session:
        import_file(session, good, default_language="en", encoder=deps.encoder)
    assert organisations(deps) == ["Bilbao City Council"]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"ref,kind,organization,title,description\nr2,offer,{TOO_LONG},Title,Text.\n")
    with pytest.raises(ImportFailed) as failed, transaction(deps.sessions) as session:
        import_file(session, bad, default_language="en", encoder=deps.encoder)
    [problem] = failed.value.problems
    assert (problem.column, problem.values["limit"]) == ("organization", ORGANISATION_MAX)
    with deps.sessions() as session:
        member = session.exec(select(Member)).one()
        organisation = session.get(Organisation, member.organisation_id)
        assert organisation is not None
        assert organisation.name == "Bilbao City Council"
