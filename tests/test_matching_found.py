"""A post keeps what the topic scan found in it (`bot.matching.found`), so a cold index reads it
instead of scanning again. The index sees the same topics and concepts either way: a stored scan is
used only when it was made by this lexicon from this very text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import col, select

from bot.deps import Deps
from bot.matching.features import PostText
from bot.matching.found import LEXICON, found_blobs, found_in, holds
from bot.matching.topic_scan import Ranked, rank_scanned
from bot.runtime.cli import cli
from bot.topics import CONCEPTS, TOPICS
from bot.transfer import import_records, parse_text
from storage.db import transaction
from storage.models import Post
from tests.test_matching_support import PROCUREMENT_NEED, PROCUREMENT_OFFER, World

DATA = Path(__file__).parent / "data"


def _pairs() -> list[tuple[str, str]]:
    items = json.loads((DATA / "matching_eval_6.json").read_text(encoding="utf-8"))["items"]
    odd = [
        ("", ""),
        ("Compra pública responsable 🌱", ""),
        ("ميزانية تشاركية", "participatory budgeting\x00 with a NUL and <b>markup</b> @channel"),
        ("Banco de tiempo", "time bank " * 300),
    ]
    return [(item["title"], item["description"]) for item in items] + odd


def _texts(pairs: list[tuple[str, str]], found: list[bytes | None]) -> list[PostText]:
    return [PostText(title, text, None, (), blob) for (title, text), blob in zip(pairs, found, strict=True)]


def _same(got: tuple[Ranked, Ranked], expected: tuple[Ranked, Ranked]) -> bool:
    return all(
        np.array_equal(getattr(mine, field), getattr(theirs, field))
        for mine, theirs in zip(got, expected, strict=True)
        for field in ("text", "topic", "rank")
    )


def test_stored_scans_give_what_a_scan_gives_whether_they_hold_or_not() -> None:
    pairs = _pairs()
    blobs = found_blobs(pairs)
    expected = rank_scanned([part for pair in pairs for part in pair])
    assert len(expected[1].text) > len(pairs) / 2  # the set's posts do name aims
    other_lexicon = [bytes(4) + blob[4:] for blob in blobs]
    other_text = blobs[1:] + blobs[:1]
    cut = [blob[:-1] for blob in blobs]
    half = [blob if at % 2 else None for at, blob in enumerate(blobs)]
    for found in (blobs, [None] * len(pairs), half, other_lexicon, other_text, cut):
        assert _same(found_in(_texts(pairs, found)), expected)
    assert all(holds(text) for text in _texts(pairs, blobs))
    assert not any(holds(text) for text in _texts(pairs, other_lexicon))
    assert sum(holds(text) for text in _texts(pairs, other_text)) == 0


def test_a_stored_scan_that_holds_is_read_not_made_again() -> None:
    """The scan of a text naming an aim, stored under the header of a text that names none: the
    header holds, so what is read is the stored aim, proof that the scan was not made again."""
    plain = ("The weather will be sunny tomorrow", "Light winds from the west.")
    aim = ("Repair café", "Volunteers fix toasters and bikes with neighbours every Saturday.")
    plain_blob, aim_blob = found_blobs([plain, aim])
    header = len(LEXICON) + 8
    assert len(plain_blob) == header  # nothing found in the weather
    grafted = plain_blob[:header] + aim_blob[header:]
    topics, concepts = found_in(_texts([plain], [grafted]))
    assert [CONCEPTS[number].slug for number in concepts.topic.tolist()] == ["repair-cafe"]
    assert _same((topics, concepts), found_in(_texts([aim], [aim_blob])))
    assert not found_in(_texts([plain], [None]))[1].text.size


def test_imported_posts_keep_their_scan_and_reindex_gives_one_to_the_others(deps: Deps) -> None:
    records = [
        {"ref": "o-cafe", "kind": "offer", "organization": "Rotterdam", "title": "Repaircafé in de wijk",
         "description": "Vrijwilligers repareren samen met buren kapotte spullen.", "language": "nl"},
        {"ref": "n-gdl", "kind": "need", "organization": "Guadalajara", "title": PROCUREMENT_NEED[0],
         "description": PROCUREMENT_NEED[1], "language": "es"},
    ]  # fmt: skip
    with transaction(deps.sessions) as session:
        rows = parse_text(json.dumps(records), kind="json")
        import_records(session, rows, default_language="en", encoder=deps.encoder)
        world = World(session)
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)  # written by hand: no scan stored
        session.flush()
    with deps.sessions() as session:
        posts = {post.ref: post for post in session.exec(select(Post)).all()}
        assert holds(posts["o-cafe"])
        assert holds(posts["n-gdl"])
        assert posts["o-dub"].found is None
        session.execute(update(Post).where(col(Post.ref) == "n-gdl").values(title="Compras públicas con impacto"))
        session.commit()  # edited behind the bot's back: its stored scan no longer holds
    result = CliRunner().invoke(cli, ["reindex"], obj={}, env={"DATABASE_URL": deps.settings.database_url})
    assert result.exit_code == 0, result.output
    with deps.sessions() as session:
        posts = list(session.exec(select(Post).order_by(col(Post.id))).all())
        assert all(holds(post) for post in posts)
        stored = found_in([PostText(post.title, post.description, None, (), post.found) for post in posts])
        scanned = found_in([PostText(post.title, post.description, None) for post in posts])
        assert _same(stored, scanned)
        assert "public-procurement" in {TOPICS[number].slug for number in stored[0].topic.tolist()}
        need = next(post for post in posts if post.ref == "n-gdl")
        # The index reads the stored scans (bytes from SQLite, bytea from PostgreSQL) and matches on them.
        assert [suggestion.offer.ref for suggestion in deps.matcher.suggest(session, need)] == ["o-dub"]
