"""Which organisation a name means: the one rule every path uses (conversations, the Slack modal,
imports, invites, identities a platform brings), and who may speak for it.

A name is cleaned like any text a person types and folded onto one line; it has a length limit (the
database column's). Two names are one organisation when their *keys* agree: the key is the name in
Unicode NFKC, case-folded, without format characters (zero-width spaces and joiners, bidi controls),
spaces collapsed, then reduced to its confusables skeleton (Unicode TR39: each character replaced by
the prototype it can be mistaken for, with Unicode's confusables data as shipped by
`confusable-homoglyphs`), without accents. So `Dublin City Council`, `dublin city council`, `Dublin\u200b City Council`
and `Dublin \u0421ity Council` (a Cyrillic Es) are one organisation.

An organisation is claimed, not typed: the first person to name it creates it; anyone who names an
existing one is *pending* until a facilitator or an existing member approves them (or they came
through an invite for it). A pending person posts their own posts but speaks for none of the
organisation's others (see `speaks_for`).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs.confusables import confusables_data
from sqlmodel import Session

from bot.errors import UserError
from bot.i18n import N_
from bot.text import clean, one_line
from storage.models import ORGANISATION_KEY_MAX, ORGANISATION_MAX, Member, Organisation
from storage.queries import get_or_create_organisation, keyless_organisations, organisation_by_key

__all__ = [
    "ORGANISATION_MAX",
    "check_name",
    "clean_name",
    "find",
    "give_keys",
    "join",
    "key",
    "named",
    "organisation_named",
    "speaks_for",
]


def clean_name(raw: str | None) -> str:
    """The name as we store it: cleaned, on one line, single spaces."""
    return one_line(clean(raw))


def check_name(raw: str | None) -> str:
    """A name a person typed, or UserError saying why it cannot be one."""
    name = clean_name(raw)
    if not key(name):
        raise UserError(N_("core.error_empty_organisation"))
    if len(name) > ORGANISATION_MAX:
        raise UserError(N_("core.error_organisation_long"), count=ORGANISATION_MAX)
    return name


def named(raw: str | None) -> str:
    """A name nobody can be asked to retype (an identity, a console `--as`): cleaned and cut to fit."""
    return clean_name(raw)[:ORGANISATION_MAX].rstrip()


def key(name: str) -> str:
    """The form two names are compared in (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = " ".join("".join(ch for ch in text if unicodedata.category(ch) != "Cf").split())
    decomposed = unicodedata.normalize("NFD", text)
    prototypes = _prototypes()
    skeleton = unicodedata.normalize("NFD", "".join(prototypes.get(ch, ch) for ch in decomposed))
    # Accents go too: "Citta di Torino" typed on a keyboard without them is still Torino.
    bare = "".join(ch for ch in skeleton if not unicodedata.combining(ch))
    return " ".join(bare.split())[:ORGANISATION_KEY_MAX]


@cache
def _prototypes() -> dict[str, str]:
    """Unicode's confusables as character -> prototype. The library stores each line of
    confusables.txt both ways (source <-> prototype); a source has exactly one entry, its prototype,
    while a prototype lists its sources. A pair that is alone either way maps the higher code point
    onto the lower one, so both sides still share one skeleton."""
    mapping: dict[str, str] = {}
    for char, entries in confusables_data.items():
        if len(char) != 1 or len(entries) != 1:
            continue
        target: str = entries[0]["c"]
        alone = len(target) == 1 and len(confusables_data.get(target, ())) == 1
        if alone and target > char:
            continue
        mapping[char] = target
    return mapping


def organisation_named(session: Session, *, community_id: int, name: str) -> Organisation:
    """The community's organisation this (already checked) name means, created on first mention."""
    cleaned = clean_name(name)
    give_keys(session, community_id)
    return get_or_create_organisation(session=session, community_id=community_id, name=cleaned, key=key(cleaned))


def find(session: Session, community_id: int, name: str) -> Organisation | None:
    """The existing organisation this name means, if any."""
    give_keys(session, community_id)
    return organisation_by_key(session=session, community_id=community_id, key=key(clean_name(name)))


def give_keys(session: Session, community_id: int) -> None:
    """Organisations written before keys existed (or without one) get theirs, oldest first; a later
    look-alike of an existing one gets a key of its own that marks it as a duplicate waiting for
    `peerlink orgs merge`, so every name typed from now on finds the oldest."""
    for organisation in keyless_organisations(session=session, community_id=community_id):
        found = key(organisation.name)
        taken = organisation_by_key(session=session, community_id=community_id, key=found)
        organisation.key = found if taken is None else f"{found}#{organisation.id}"[-ORGANISATION_KEY_MAX:]
        session.add(organisation)
        session.flush()


def join(session: Session, member: Member, name: str, *, invited: bool = False) -> Organisation:
    """The member names their organisation: they create a new one, or wait for approval to speak
    for an existing one (unless an invite for it brought them, or it is already theirs)."""
    cleaned = clean_name(name)
    existing = find(session, member.community_id, cleaned)
    organisation = existing or organisation_named(session, community_id=member.community_id, name=cleaned)
    if member.organisation_id != organisation.id:
        member.organisation_id = organisation.id
        member.organisation_pending = existing is not None and not invited
    elif invited:
        member.organisation_pending = False
    session.add(member)
    session.flush()
    return organisation


def speaks_for(member: Member, organisation_id: int | None) -> bool:
    """May this member see and answer for the organisation's posts they did not write themselves?"""
    return organisation_id is not None and member.organisation_id == organisation_id and not member.organisation_pending
