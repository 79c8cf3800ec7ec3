"""What the topic scan found in a post, kept with the post so a cold index need not scan it again.

Scanning titles and descriptions for topics and concepts was most of building an index (about
2 s of the 10,000 x 10,000 cold round). Like the sentence vector, the scan is made when a post is
saved, edited or imported and stored with it (`Post.found`). A stored scan is used only when it was
made by this lexicon from this very text (both are named in it); any other post is scanned again,
so what the index sees never depends on whether a scan was stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.matching.topic_scan import Ranked, rank_scanned
from bot.topics import CONCEPTS_DATA, DATA, TOPICS
from storage.models import Post

_FORMAT = b"found-1"  # the blob's layout and the scanner's counting rules
LEXICON = hashlib.blake2b(_FORMAT + DATA.read_bytes() + CONCEPTS_DATA.read_bytes(), digest_size=4).digest()
_DIGEST = 8  # bytes of the text's digest
_HEADER = len(LEXICON) + _DIGEST
_STORED = np.dtype("<i2")  # (part, number, rank) triples: part 0 title, 1 description; number in SCANNED
_BATCH = 512  # posts refreshed per flush by `refresh_found`


class Written(Protocol):
    """A post's text, with what was stored of its scan (a `Post` row, or a post as the index reads it)."""

    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def found(self) -> bytes | None: ...


def _digest(title: str, description: str) -> bytes:
    text = f"{title}\x00{description}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=_DIGEST).digest()


def _joined(topics: Ranked, concepts: Ranked) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
    """The scan's text number of each hit, and its (part, number, rank) triple, sorted by text."""
    text = np.concatenate([topics.text, concepts.text])
    number = np.concatenate([topics.topic, concepts.topic + len(TOPICS)])
    rank = np.concatenate([topics.rank, concepts.rank])
    order = np.argsort(text, kind="stable")
    triples = np.stack([text % 2, number, rank], axis=1)[order]
    return text[order], triples.astype(_STORED)


def found_blobs(texts: Sequence[tuple[str, str]]) -> list[bytes]:
    """What to store of the scan of each (title, description)."""
    text, triples = _joined(*rank_scanned([part for pair in texts for part in pair]))
    bounds = np.searchsorted(text // 2, np.arange(len(texts) + 1))
    return [
        LEXICON + _digest(title, description) + triples[start:stop].tobytes()
        for (title, description), start, stop in zip(texts, bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]


def keep_found(posts: Sequence[Post]) -> None:
    """Store the scan of each post's current title and description with it (batched)."""
    for post, blob in zip(posts, found_blobs([(post.title, post.description) for post in posts]), strict=True):
        post.found = blob


def holds(post: Written) -> bool:
    """Whether the stored scan is this lexicon's, of this text."""
    blob = post.found
    return (
        blob is not None
        and len(blob) >= _HEADER
        and (len(blob) - _HEADER) % (3 * _STORED.itemsize) == 0
        and blob[: len(LEXICON)] == LEXICON
        and blob[len(LEXICON) : _HEADER] == _digest(post.title, post.description)
    )


def found_in(posts: Sequence[Written]) -> tuple[Ranked, Ranked]:
    """`rank_scanned` of the posts' titles and descriptions (text 2i is post i's title, 2i + 1 its
    description): read from the stored scans that hold, scanned for the others."""
    usable = [holds(post) for post in posts]
    stored = [post.found[_HEADER:] for post, ok in zip(posts, usable, strict=True) if ok and post.found]
    counts = np.fromiter((len(blob) // (3 * _STORED.itemsize) for blob in stored), dtype=np.int64, count=len(stored))
    kept = np.flatnonzero(np.asarray(usable, dtype=np.bool_))
    triples = np.frombuffer(b"".join(stored), dtype=_STORED).reshape(-1, 3).astype(np.int64)
    post = np.repeat(kept, counts)
    others = [at for at, ok in enumerate(usable) if not ok]
    if others:
        scanned, fresh = _joined(*rank_scanned([p for at in others for p in (posts[at].title, posts[at].description)]))
        post = np.concatenate([post, np.asarray(others, dtype=np.int64)[scanned // 2]])
        triples = np.concatenate([triples, fresh.astype(np.int64)])
    return _split(post * 2 + triples[:, 0], triples[:, 1], triples[:, 2])


def _split(
    text: npt.NDArray[np.int64], number: npt.NDArray[np.int64], rank: npt.NDArray[np.int64]
) -> tuple[Ranked, Ranked]:
    """The hits as `rank_scanned` gives them: topics and concepts apart, sorted by text, then rank."""
    order = np.lexsort((rank, number >= len(TOPICS), text))
    text, number, rank = text[order], number[order], rank[order]
    topic = number < len(TOPICS)
    return (
        Ranked(text[topic], number[topic], rank[topic]),
        Ranked(text[~topic], number[~topic] - len(TOPICS), rank[~topic]),
    )


def refresh_found(session: Session) -> int:
    """Store the scan of every post whose stored one does not hold (none yet, another lexicon, a
    text changed without it); flushed a batch at a time. Returns how many posts got one."""
    columns: tuple[Any, ...] = (Post.id, Post.title, Post.description, Post.found)
    statement: Any = sa_select(*columns).order_by(col(Post.id))
    stale = [row.id for row in session.exec(statement) if not holds(row)]
    for start in range(0, len(stale), _BATCH):
        ids = stale[start : start + _BATCH]
        posts = session.exec(select(Post).where(col(Post.id).in_(ids)).order_by(col(Post.id))).all()
        keep_found(posts)
        session.add_all(posts)
        session.flush()
    return len(stale)
