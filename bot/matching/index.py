"""An in-memory vector index of one community's open posts, built lazily, refreshed incrementally.

Rows hold TF-IDF term vectors (sparse), topic vectors (dense, one column per taxonomy topic) and
sentence vectors (dense, the encoder's, stored with each post, less their language's offset), all
L2-normalised, so a dot product is a cosine. Rows are appended, never moved, until a refit
re-weights and compacts everything (after `refit_growth` of changes); a changed post gets a new row
and its old one is marked dead.

Staying correct when another process writes: `sync()` compares a cheap signature of the community's
posts (latest `updated_at`, number of open posts, number of posts) with the one seen last; when it
differs it re-reads the posts changed since then, and rebuilds when the counts still disagree (a
post deleted, or a status changed without `updated_at` being bumped).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import SUPPORTED_LANGUAGES
from bot.matching.config import MatchingConfig, Purpose
from bot.matching.encoder import post_text, unpack, without_language
from bot.matching.features import Features, PostText, featurise
from bot.matching.rows import Column, DenseRows, SparseRows
from bot.matching.text import Normaliser
from bot.ports import Encoder
from bot.topics import CONCEPTS, TOPICS
from storage.models import Post, PostKind, PostStatus

TOPIC_SLUGS = tuple(topic.slug for topic in TOPICS)
NEED, OFFER = 0, 1
NO_END = np.iinfo(np.int32).max
# A post committed late by another process may carry an `updated_at` older than the newest one
# already seen; re-reading this much further back catches it.
SYNC_SLACK = timedelta(minutes=2)
THOROUGH_EVERY = 5.0  # seconds between thorough checks on the instant-suggestion path
BUILD_CHUNK = 4096
SPREAD_SAMPLE = 256  # posts of each kind whose cosines measure the community's spread (all, when fewer)
RESPREAD = 0.01  # share of changed posts after which the spread and the usual cosines are measured again


@dataclass(frozen=True, slots=True)
class PostRow:
    """The columns of a post the index needs (read without building ORM objects: 100k rows)."""

    id: int
    kind: str
    organisation_id: int
    member_id: int | None
    title: str
    description: str
    language: str | None
    topics: tuple[str, ...]
    status: str
    available_until: date | None
    updated_at: datetime
    embedding: bytes | None
    found: bytes | None

    @classmethod
    def of(cls, post: Post) -> PostRow:
        assert post.id is not None
        return cls(
            post.id,
            str(post.kind),
            post.organisation_id,
            post.member_id,
            post.title,
            post.description,
            post.language,
            tuple(post.topics or ()),
            str(post.status),
            post.available_until,
            post.updated_at,
            post.embedding,
            post.found,
        )


_COLUMNS: tuple[Any, ...] = (
    Post.id, Post.kind, Post.organisation_id, Post.member_id, Post.title, Post.description, Post.language,
    Post.topics, Post.status, Post.available_until, Post.updated_at, Post.embedding, Post.found,
)  # fmt: skip


def _rows(session: Session, *conditions: Any) -> list[PostRow]:
    statement: Any = sa_select(*_COLUMNS).where(*conditions).order_by(col(Post.id))  # plain tuples, no ORM objects
    result = session.exec(statement)
    return [
        PostRow(r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6], tuple(r[7] or ()), str(r[8]), r[9], r[10], r[11], r[12])
        for r in result
    ]


class CommunityIndex:
    """The vectors of one community's open posts. Callers hold `lock` while using it."""

    def __init__(self, community_id: int, normaliser: Normaliser, encoder: Encoder, config: MatchingConfig) -> None:
        self.community_id = community_id
        self.lock = threading.RLock()
        self._normaliser = normaliser
        self._encoder = encoder
        self._config = config
        self._offsets = encoder.language_offsets()
        self._reset()

    def _reset(self) -> None:
        self.column_of = np.full(1024, -1, dtype=np.int64)  # the normaliser's term id -> column, or -1
        self.term_names: list[str] = []  # column -> stem or cognate key
        # per language number: term column -> the first word seen for it in that language
        self.surfaces: list[dict[int, str]] = [{} for _ in SUPPORTED_LANGUAGES]
        self.raw_terms, self.terms = SparseRows(), SparseRows()
        self.raw_topics, self.topics = DenseRows(len(TOPICS)), DenseRows(len(TOPICS))
        # Concepts as sparse rows: a post has a few of the hundred-odd (dense, 45 MB a copy at 100,000 posts).
        self.raw_concepts, self.concepts = SparseRows(), SparseRows()
        # Sentence vectors, one matrix per kind (need, offer), so a new post's products read only the
        # other kind's (the largest array of the index: 2 KB a post). `semantic_at`: row -> position
        # in its kind's matrix; `kind_rows`: per kind, position -> row.
        self.semantic = (DenseRows(self._encoder.dimension), DenseRows(self._encoder.dimension))
        self.semantic_at = Column(np.int64)
        self.kind_rows = (Column(np.int64), Column(np.int64))
        # Per kind: the sum and number of live sentence vectors, for the mean cosine.
        self.semantic_sum = np.zeros((2, self._encoder.dimension), dtype=np.float64)
        self.semantic_count = np.zeros(2, dtype=np.int64)
        # The spread and each row's usual cosine (per kind, aligned with `semantic`), measured again
        # after `RESPREAD` of the posts changed (`_measured`); None: to be measured.
        self._purpose: Purpose | None = None
        self._usual: list[npt.NDArray[np.float32]] = [np.zeros(0, np.float32), np.zeros(0, np.float32)]
        self._changed = 0
        self.term_df = Column(np.int64)
        self.topic_df = np.zeros(len(TOPICS), dtype=np.int64)
        self.concept_df = np.zeros(len(CONCEPTS), dtype=np.int64)
        self.post_id = Column(np.int64)
        self.kind = Column(np.int8)
        self.organisation = Column(np.int64)
        self.member = Column(np.int64, -1)
        self.until = Column(np.int32, NO_END)
        self.language = Column(np.int8)
        self.alive = Column(np.bool_, False)
        self.row_of: dict[int, int] = {}
        self.version_of: dict[int, datetime] = {}
        self.signature: tuple[Any, ...] | None = None
        self.checked_at = 0.0  # time.monotonic() of the last thorough check
        self.newest_id = 0
        self.alive_count = 0
        self.fitted_rows = 0
        self.changes = 0

    # --- keeping up with the database -------------------------------------------------------

    def sync(self, session: Session, *, thorough: bool = True) -> None:
        """Bring the index up to date with the database.

        Thorough (rounds): compare (latest `updated_at`, open posts, posts) with the last ones seen;
        on a difference re-read the posts changed since, and rebuild if the counts still disagree.
        Quick (instant suggestions, every call): only look for posts newer than the newest known
        (`max(id)`, one index lookup) and read those; the thorough check still runs when
        `THOROUGH_EVERY` has passed. Edits and withdrawals made by another process are therefore
        seen within seconds; `Matcher.suggest` re-checks the status of what it returns anyway."""
        newest = session.exec(select(func.max(Post.id)).where(Post.community_id == self.community_id)).one()
        due = thorough or self.signature is None or time.monotonic() - self.checked_at >= THOROUGH_EVERY
        if not due:
            if newest is not None and newest > self.newest_id:
                self._apply(_rows(session, Post.community_id == self.community_id, col(Post.id) > self.newest_id))
                self.newest_id = newest
            return
        signature = tuple(
            session.exec(
                select(
                    func.max(Post.updated_at),
                    func.coalesce(func.sum(case((col(Post.status) == PostStatus.open.value, 1), else_=0)), 0),
                    func.count(col(Post.id)),
                ).where(Post.community_id == self.community_id)
            ).one()
        )
        self.checked_at = time.monotonic()
        if signature != self.signature:
            if self.signature is None or self.signature[0] is None:
                self.rebuild(session)
            else:
                since = self.signature[0] - SYNC_SLACK
                self._apply(_rows(session, Post.community_id == self.community_id, col(Post.updated_at) >= since))
                if self.alive_count != signature[1]:
                    self.rebuild(session)
            self.signature = signature
        self.newest_id = max(self.newest_id, newest or 0)
        if self.changes > self._config.refit_growth * max(self.fitted_rows, 100):
            self.refit()

    def rebuild(self, session: Session) -> None:
        self._reset()
        rows = _rows(session, Post.community_id == self.community_id, Post.status == PostStatus.open)
        for start in range(0, len(rows), BUILD_CHUNK):  # features are bulky: a chunk at a time
            self.add(rows[start : start + BUILD_CHUNK])
        self.fitted_rows, self.changes = self.alive_count, 0

    def _apply(self, rows: Iterable[PostRow]) -> None:
        fresh: list[PostRow] = []
        for row in rows:
            if row.status == PostStatus.open.value:
                if self.version_of.get(row.id) != row.updated_at:
                    self.remove(row.id)
                    fresh.append(row)
            else:
                self.remove(row.id)
        self.add(fresh)

    def upsert(self, post: Post) -> None:
        """Take a just-saved post into account now (also before it is committed)."""
        self._apply([PostRow.of(post)])

    # --- rows -------------------------------------------------------------------------------

    def featurise(self, rows: Sequence[PostRow]) -> Features:
        texts = [PostText(row.title, row.description, row.language, row.topics, row.found) for row in rows]
        return featurise(self._normaliser, texts, self._config.weights)

    def add(self, rows: Sequence[PostRow]) -> None:
        if not rows:
            return
        features = self.featurise(rows)
        raw = self._raw_terms(features)
        raw_topics, raw_concepts = features.topics, sp.csr_matrix(features.concepts, dtype=np.float32)
        # The block's own terms count in the document frequency before it is weighed.
        self.term_df.array[: raw.shape[1]] += np.bincount(raw.indices, minlength=raw.shape[1])
        self.topic_df += (raw_topics > 0).sum(axis=0)
        self.concept_df += np.bincount(raw_concepts.indices, minlength=len(CONCEPTS))
        self.alive_count += len(rows)
        terms, topics, concepts = self.weigh(raw, raw_topics, raw_concepts)
        start = self.post_id.rows
        self.raw_terms.append(raw)
        self.terms.append(terms)
        self.raw_topics.append(raw_topics)
        self.topics.append(topics)
        self.raw_concepts.append(raw_concepts)
        self.concepts.append(concepts)
        vectors = without_language(self.sentence_vectors(rows), features.language_numbers(), self._offsets)
        kinds = np.asarray([NEED if row.kind == PostKind.need.value else OFFER for row in rows], dtype=np.int8)
        self._append_vectors(vectors, kinds, start=self.post_id.rows)
        for kind in (NEED, OFFER):
            self.semantic_sum[kind] += vectors[kinds == kind].sum(axis=0, dtype=np.float64)
            self.semantic_count[kind] += int((kinds == kind).sum())
        self._changed += len(rows)
        self.post_id.extend([row.id for row in rows])
        self.kind.extend(kinds)
        self.organisation.extend([row.organisation_id for row in rows])
        self.member.extend([-1 if row.member_id is None else row.member_id for row in rows])
        self.until.extend([row.available_until.toordinal() if row.available_until else NO_END for row in rows])
        self.language.extend(features.language_numbers())
        self.alive.extend(np.ones(len(rows), dtype=np.bool_))
        for offset, row in enumerate(rows):
            self.row_of[row.id] = start + offset
            self.version_of[row.id] = row.updated_at
        self.changes += len(rows)

    def _append_vectors(self, vectors: npt.NDArray[np.float32], kinds: npt.NDArray[np.int8], *, start: int) -> None:
        """Rows `start`, `start + 1`, ... get these vectors, each in its kind's matrix."""
        at = np.empty(len(kinds), dtype=np.int64)
        for kind in (NEED, OFFER):
            mine = np.flatnonzero(kinds == kind)
            at[mine] = self.semantic[kind].rows + np.arange(len(mine))
            self.semantic[kind].append(vectors[mine])
            self.kind_rows[kind].extend(start + mine)
        self.semantic_at.extend(at)

    def sentence_vectors(self, rows: Sequence[PostRow]) -> npt.NDArray[np.float32]:
        """The stored vectors; a post saved before vectors existed (or by another encoder) is encoded
        now, in one batch, until `peerlink reindex` stores it."""
        vectors, usable = unpack([row.embedding for row in rows], self._encoder.dimension)
        missing = np.flatnonzero(~usable)
        if len(missing):
            texts = [post_text(rows[at].title, rows[at].description) for at in missing.tolist()]
            vectors[missing] = self._encoder.encode(texts)
        return vectors

    def _columns(self, terms: npt.NDArray[np.int64], *, learn: bool) -> npt.NDArray[np.int64]:
        """The columns of the normaliser's term ids; with `learn`, terms new to the index get the
        next columns in the order they first appear, else they get -1."""
        known = len(self._normaliser.terms)
        if known > len(self.column_of):
            grown = np.full(max(known, 2 * len(self.column_of)), -1, dtype=np.int64)
            grown[: len(self.column_of)] = self.column_of
            self.column_of = grown
        columns = self.column_of[terms]
        if learn and (columns < 0).any():
            fresh, first = np.unique(terms[columns < 0], return_index=True)
            fresh = fresh[np.argsort(first, kind="stable")]
            self.column_of[fresh] = np.arange(len(self.term_names), len(self.term_names) + len(fresh))
            names = self._normaliser.terms
            self.term_names.extend(names[term] for term in fresh.tolist())
            columns = self.column_of[terms]
        return columns

    def _raw_terms(self, features: Features) -> sp.csr_matrix:
        """The raw term weights as a CSR block; new terms get columns (and a document frequency of 0)."""
        columns = self._columns(features.terms, learn=True)
        width = len(self.term_names)
        self.term_df.extend(np.zeros(width - self.term_df.rows, dtype=np.int64))
        # The first word seen for a column in a language names it in reasons.
        languages = np.repeat(features.language_numbers().astype(np.int64), np.diff(features.indptr))
        firsts, at = np.unique(languages * width + columns, return_index=True)
        for key, entry in zip(firsts.tolist(), at.tolist(), strict=True):
            seen = self.surfaces[key // width]
            if key % width not in seen:
                seen[key % width] = features.words[features.word_of[entry]]
        return sp.csr_matrix(
            (features.weights, columns.astype(np.int32), features.indptr.astype(np.int32)),
            shape=(len(features.languages), width),
        )

    def weigh(
        self, raw: sp.csr_matrix, raw_topics: npt.NDArray[np.float32], raw_concepts: sp.csr_matrix
    ) -> tuple[sp.csr_matrix, npt.NDArray[np.float32], sp.csr_matrix]:
        """TF-IDF with smoothed IDF (as scikit-learn's), rows L2-normalised: terms, topics, concepts."""
        count = max(self.alive_count, 1)
        term_df = self.term_df.view()[: raw.shape[1]]
        term_idf = np.log((1 + count) / (1 + term_df)) + 1.0
        # Terms in most posts ("social", "city") only add noise, and cost most in the products.
        term_idf[term_df > max(self._config.max_df * count, self._config.min_pruned)] = 0.0
        terms = _strongest(sp.csr_matrix(raw @ sp.diags(term_idf.astype(np.float32))), self._config.post_terms)
        terms = normalize(terms, copy=False)
        topics = np.asarray(normalize(raw_topics * _idf(self.topic_df, count), copy=False), dtype=np.float32)
        concepts = normalize(sp.csr_matrix(raw_concepts @ sp.diags(_idf(self.concept_df, count))), copy=False)
        return sp.csr_matrix(terms, dtype=np.float32), topics, sp.csr_matrix(concepts, dtype=np.float32)

    def remove(self, post_id: int) -> None:
        row = self.row_of.pop(post_id, None)
        if row is None:
            return
        self.version_of.pop(post_id, None)
        self.alive.array[row] = False
        self.term_df.array[self.raw_terms.columns(row)] -= 1
        self.topic_df -= self.raw_topics.array[row] > 0
        self.concept_df[self.raw_concepts.columns(row)] -= 1
        kind = int(self.kind.array[row])
        self.semantic_sum[kind] -= self.semantic[kind].array[self.semantic_at.array[row]]
        self.semantic_count[kind] -= 1
        self._changed += 1
        self.alive_count -= 1
        self.changes += 1

    def refit(self) -> None:
        """Re-weigh every live row with today's document frequencies and drop dead rows."""
        keep = np.flatnonzero(self.alive.view())
        raw = self.raw_terms.matrix(len(self.term_names))[keep]
        raw_topics, raw_concepts = self.raw_topics.view()[keep], self.raw_concepts.matrix(len(CONCEPTS))[keep]
        semantic, kinds = self.vectors(keep), self.kind.view()[keep]
        terms, topics, concepts = self.weigh(raw, raw_topics, raw_concepts)
        meta = {
            name: getattr(self, name).view()[keep]
            for name in ("post_id", "kind", "organisation", "member", "until", "language")
        }
        self.raw_terms, self.terms = SparseRows(), SparseRows()
        self.raw_topics, self.topics = DenseRows(len(TOPICS)), DenseRows(len(TOPICS))
        self.raw_concepts, self.concepts = SparseRows(), SparseRows()
        self.raw_terms.append(raw)
        self.terms.append(terms)
        self.raw_topics.append(raw_topics)
        self.topics.append(topics)
        self.raw_concepts.append(raw_concepts)
        self.concepts.append(concepts)
        self.semantic = (DenseRows(self._encoder.dimension), DenseRows(self._encoder.dimension))
        self.semantic_at, self.kind_rows = Column(np.int64), (Column(np.int64), Column(np.int64))
        self._append_vectors(semantic, kinds, start=0)
        for name, values in meta.items():
            fresh = Column(getattr(self, name).array.dtype, getattr(self, name).fill)
            fresh.extend(values)
            setattr(self, name, fresh)
        self.alive = Column(np.bool_, False)
        self.alive.extend(np.ones(len(keep), dtype=np.bool_))
        self.row_of = {int(post_id): row for row, post_id in enumerate(meta["post_id"])}
        self._purpose = None
        self.fitted_rows, self.changes = len(keep), 0

    # --- what the matcher reads ----------------------------------------------------------------

    def term_matrix(self) -> sp.csr_matrix:
        return self.terms.matrix(len(self.term_names))

    def topic_matrix(self) -> npt.NDArray[np.float32]:
        return self.topics.view()

    def concept_matrix(self) -> sp.csr_matrix:
        return self.concepts.matrix(len(CONCEPTS))

    def vectors(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        """The sentence vectors of these rows (a copy)."""
        found = np.empty((len(rows), self._encoder.dimension), dtype=np.float32)
        kinds, at = self.kind.view()[rows], self.semantic_at.view()[rows]
        for kind in (NEED, OFFER):
            mine = kinds == kind
            found[mine] = self.semantic[kind].view()[at[mine]]
        return found

    def cosines_with(self, row: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(rows of the other kind, their sentence cosine with `row`, their usual cosine): one product
        over half the index."""
        other = OFFER if self.kind.array[row] == NEED else NEED
        query = self.vectors(np.asarray([row]))[0]
        return self.kind_rows[other].view(), self.semantic[other].view() @ query, self._measured()[1][other]

    def usual(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        """Each row's usual cosine (`config.Weights.usual`): its mean cosine with the other kind's
        posts, the dot product with their mean vector."""
        usual = self._measured()[1]
        found = np.empty(len(rows), dtype=np.float32)
        kinds, at = self.kind.view()[rows], self.semantic_at.view()[rows]
        for kind in (NEED, OFFER):
            mine = kinds == kind
            found[mine] = usual[kind][at[mine]]
        return found

    def purpose(self) -> Purpose:
        """How sentence cosines score here (`config.Purpose`)."""
        return self._measured()[0]

    def _measured(self) -> tuple[Purpose, list[npt.NDArray[np.float32]]]:
        """The spread (measured on up to `SPREAD_SAMPLE` live posts of each kind: every post in a
        small community) and the usual cosines, measured again once `RESPREAD` of the posts changed
        since (after every change in a community under 100 posts): one post more moves neither
        much, and the products over 100,000 posts would double an instant suggestion's time. Rows
        added since get their usual cosine against the kinds' current means."""
        weights = self._config.weights
        counts = [int(count) for count in self.semantic_count]
        if self._purpose is None or self._changed >= max(1.0, RESPREAD * self.alive_count):
            needs, offers = self._sample(NEED), self._sample(OFFER)
            cosines = self.vectors(needs) @ self.vectors(offers).T
            variance = float(cosines.var()) if cosines.size else 0.0
            self._purpose = weights.purpose(variance, counts[NEED] * counts[OFFER])
            self._usual = [np.zeros(0, np.float32), np.zeros(0, np.float32)]
            self._changed = 0
        for kind, other in ((NEED, OFFER), (OFFER, NEED)):
            known = len(self._usual[kind])
            if known < self.semantic[kind].rows:
                means = self.semantic[kind].view()[known:] @ self._mean_vector(other)
                self._usual[kind] = np.concatenate([self._usual[kind], weights.usual(means, counts[other])])
        return self._purpose, self._usual

    def _mean_vector(self, kind: int) -> npt.NDArray[np.float32]:
        return np.asarray(self.semantic_sum[kind] / max(int(self.semantic_count[kind]), 1), dtype=np.float32)

    def _sample(self, kind: int) -> npt.NDArray[np.int64]:
        """Live rows of one kind, evenly spread, at most `SPREAD_SAMPLE`."""
        rows: npt.NDArray[np.int64] = self.kind_rows[kind].view()
        rows = rows[self.alive.view()[rows]]
        if len(rows) > SPREAD_SAMPLE:
            rows = rows[np.linspace(0, len(rows) - 1, SPREAD_SAMPLE).astype(np.intp)]
        return rows

    def open_rows(self, kind: int, today: date) -> npt.NDArray[np.intp]:
        """Rows of live posts of one kind whose `available_until` has not passed."""
        mask = self.alive.view() & (self.kind.view() == kind) & (self.until.view() >= today.toordinal())
        return np.flatnonzero(mask)

    def surface(self, column: int, language: int) -> str:
        found = self.surfaces[language].get(column)
        if found is not None:
            return found
        return next((seen[column] for seen in self.surfaces if column in seen), "")


def _idf(df: npt.NDArray[np.int64], count: int) -> npt.NDArray[np.float32]:
    """Smoothed IDF (as scikit-learn's) of topics or concepts."""
    return np.asarray(np.log((1 + count) / (1 + df)) + 1.0, dtype=np.float32)


def _strongest(rows: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Each row's `keep` largest entries (ties by column); the rest dropped. Vectorised."""
    rows.eliminate_zeros()
    lengths = np.diff(rows.indptr)
    if not len(lengths) or lengths.max() <= keep:
        return rows
    row_of_entry = np.repeat(np.arange(rows.shape[0]), lengths)
    order = np.lexsort((rows.indices, -rows.data, row_of_entry))
    rank = np.arange(rows.nnz) - rows.indptr[row_of_entry[order]]
    rows.data[order[rank >= keep]] = 0.0
    rows.eliminate_zeros()
    return rows
