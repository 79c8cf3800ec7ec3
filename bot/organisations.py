"""Which organisation a name means: the one rule every path uses (conversations, the Slack modal,
imports, invites, identities a platform brings).

A name is cleaned like any text a person types and folded onto one line; it has a length limit (the
database column's). Look-alike names and normal forms will live here too, so that "Bilbao  City
Council" and "Bilbao City Council" stay one organisation wherever they were typed.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.errors import UserError
from bot.i18n import N_
from bot.text import clean, one_line
from storage.models import ORGANISATION_MAX, Organisation
from storage.queries import get_or_create_organisation

__all__ = ["ORGANISATION_MAX", "check_name", "clean_name", "named", "organisation_named"]


def clean_name(raw: str | None) -> str:
    """The name as we store it: cleaned, on one line, single spaces."""
    return one_line(clean(raw))


def check_name(raw: str | None) -> str:
    """A name a person typed, or UserError saying why it cannot be one."""
    name = clean_name(raw)
    if not name:
        raise UserError(N_("core.error_empty_organisation"))
    if len(name) > ORGANISATION_MAX:
        raise UserError(N_("core.error_organisation_long"), count=ORGANISATION_MAX)
    return name


def named(raw: str | None) -> str:
    """A name nobody can be asked to retype (an identity, a console `--as`): cleaned and cut to fit."""
    return clean_name(raw)[:ORGANISATION_MAX].rstrip()


def organisation_named(session: Session, *, community_id: int, name: str) -> Organisation:
    """The community's organisation with this (already checked) name, created on first mention."""
    return get_or_create_organisation(session=session, community_id=community_id, name=clean_name(name))
