"""The matcher: instant suggestions for a saved post, whole rounds, and recording a round.

One `Matcher` lives in `Deps` for the life of the process and keeps one `CommunityIndex` per
community (index.py says how it stays correct when other processes write).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select

from bot.i18n import N_, translator
from bot.matching import reasons as reason_text
from bot.matching.config import MatchingConfig
from bot.matching.eligibility import Barriers, community_barriers, is_open, refusal
from bot.matching.encoder import UniversalSentenceEncoder
from bot.matching.index import NEED, OFFER, TOPIC_SLUGS, CommunityIndex
from bot.matching.process import collector_paused, one_blas_thread, short_switches
from bot.matching.scoring import (
    BlockOutcome,
    Candidates,
    Exclusions,
    Side,
    Workspace,
    assign,
    blocks,
    drop_apart,
    filed_under_topics,
    pair_matrix,
    score_block,
)
from bot.matching.text import PREFIX, PREFIX_MARK, Normaliser
from bot.ports import Clock, Encoder, SystemClock
from bot.topics import CONCEPTS
from storage.models import (
    Match,
    MatchRound,
    MatchStatus,
    Post,
    PostKind,
    Response,
)

SHARED_TOPICS = 3  # topics named in a reason
SHARED_CONCEPTS = 2  # concepts named in a reason
CONCEPT_SLUGS = tuple(concept.slug for concept in CONCEPTS)
# Why a pair: shared topics, key terms, similar purpose, shared concepts (`Suggestion`'s fields).
Why = tuple[tuple[str, ...], tuple[str, ...], bool, tuple[str, ...]]
_PAIR_SLICE = 2048  # pairs whose vectors are gathered at once for their cosines
_IN_CHUNK = 900  # ids per `IN (...)` (SQLite's default limit is 999 variables)
_EMBEDDING: QueryableAttribute[Any] = Post.embedding  # type: ignore[assignment]  # SQLModel types columns as values


class UnmatchedReason(StrEnum):
    no_offers = "no_offers"  # the community has no open offer at all
    below_threshold = "below_threshold"  # no offer scored above the minimum
    same_organisation = "same_organisation"  # only the need's own organisation's offers did
    already_handled = "already_handled"  # ... or offers already declined, accepted, introduced or met
    blocked = "blocked"  # ... or offers of organisations the need's author blocked
    capacity = "capacity"  # ... or offers that went to needs scoring higher, in this round


_UNMATCHED_KEYS = {
    UnmatchedReason.no_offers: N_("matching.unmatched_no_offers"),
    UnmatchedReason.below_threshold: N_("matching.unmatched_below_threshold"),
    UnmatchedReason.same_organisation: N_("matching.unmatched_same_organisation"),
    UnmatchedReason.already_handled: N_("matching.unmatched_already_handled"),
    UnmatchedReason.blocked: N_("matching.unmatched_blocked"),
    UnmatchedReason.capacity: N_("matching.unmatched_capacity"),
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    need: Post
    offer: Post
    score: float  # in [0, 1]
    shared_topics: tuple[str, ...]  # topic slugs, strongest first
    key_terms: tuple[str, ...]  # words both posts use; "financiación/financing" across languages
    similar_purpose: bool  # the sentence vectors carry the pair: same aim, in other words
    shared_concepts: tuple[str, ...] = ()  # concept slugs (`bot.topics.CONCEPTS`), strongest first

    def reasons(self, language: str) -> list[str]:
        """Why this pair, in `language`: shared topics and concepts (labels translated), key terms,
        similar purpose."""
        return reason_text.render(
            self.shared_topics, self.key_terms, language, purpose=self.similar_purpose, concepts=self.shared_concepts
        )

    def stored_reasons(self) -> list[str]:
        """The language-neutral form kept in `Match.reasons` (see `reasons.render_stored`)."""
        return reason_text.neutral(
            self.shared_topics, self.key_terms, purpose=self.similar_purpose, concepts=self.shared_concepts
        )


@dataclass(frozen=True, slots=True)
class Unmatched:
    need: Post
    reason: UnmatchedReason
    best_score: float  # the need's best score against any open offer, before the rules

    def explain(self, language: str, *, min_score: float, capacity: int) -> str:
        return translator(language).t(
            _UNMATCHED_KEYS[self.reason],
            score=f"{self.best_score:.2f}",
            minimum=f"{min_score:.2f}",
            count=capacity,
        )


@dataclass
class RoundResult:
    community_id: int
    suggestions: list[Suggestion]  # grouped by need (oldest need first), best first within a need
    unmatched: list[Unmatched]  # every open need without a suggestion, and why
    top_k: int
    capacity: int
    min_score: float
    recorded_round_id: int | None = field(default=None)  # set by `Matcher.record_round`

    def by_need(self) -> dict[int, list[Suggestion]]:
        found: dict[int, list[Suggestion]] = {}
        for suggestion in self.suggestions:
            assert suggestion.need.id is not None
            found.setdefault(suggestion.need.id, []).append(suggestion)
        return found

    def explain(self, unmatched: Unmatched, language: str) -> str:
        """Why this need got nothing, in `language`."""
        return unmatched.explain(language, min_score=self.min_score, capacity=self.capacity)


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """An allowed (need, offer) pair above the threshold, as working groups see it."""

    need_id: int
    offer_id: int
    need_organisation: int
    offer_organisation: int
    score: float
    shared_topics: tuple[str, ...]


class Matcher:
    """Scores every (need, offer) pair of a community. Thread-safe; create one per process."""

    def __init__(
        self,
        config: MatchingConfig | None = None,
        *,
        clock: Clock | None = None,
        encoder: Encoder | None = None,
        on_round: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config or MatchingConfig()
        self._on_round = on_round  # told each round's duration in seconds (the operator's metrics)
        self._clock = clock or SystemClock()
        self.encoder: Encoder = encoder or UniversalSentenceEncoder()
        self._normaliser = Normaliser()
        self._indexes: dict[int, CommunityIndex] = {}
        self._lock = threading.Lock()

    def index(self, session: Session, community_id: int, *, thorough: bool = True) -> CommunityIndex:
        """The community's index, synced with the database (built on first use: call it once at
        start-up to warm it). Hold its `lock` while reading it."""
        with self._lock:
            index = self._indexes.get(community_id)
            if index is None:
                index = self._indexes[community_id] = CommunityIndex(
                    community_id, self._normaliser, self.encoder, self.config
                )
        with index.lock, collector_paused():
            index.sync(session, thorough=thorough)
        return index

    def _today(self) -> date:
        return self._clock.now().date()

    # --- instant suggestions ------------------------------------------------------------------

    def suggest(self, session: Session, post: Post, k: int = 3) -> list[Suggestion]:
        """The `k` best counterparts of a saved post (offers for a need, needs for an offer), every
        rule applied, best first; [] when none scores above the minimum or the post is not open."""
        if post.id is None or k <= 0 or not is_open(post, self._today()):
            return []
        barriers = community_barriers(session, post.community_id, self._clock.now(), involving=post)
        index = self.index(session, post.community_id, thorough=False)
        with index.lock:
            index.upsert(post)
            me = index.row_of[post.id]
            scores = self._scores_of_row(index, me)
            allowed = np.zeros(len(scores), dtype=np.bool_)
            allowed[index.open_rows(OFFER if post.kind == PostKind.need else NEED, self._today())] = True
            allowed &= index.organisation.view() != post.organisation_id
            allowed &= ~_excluded_for(index, post, barriers)
            allowed &= scores >= self.config.min_score
            candidates = np.flatnonzero(allowed)
            ranked = candidates[np.argsort(-scores[candidates], kind="stable")[: 3 * k]]
            # The index may lag edits made by another process by a few seconds: the rule decides.
            found = _posts(session, index.post_id.view()[ranked].tolist())
            best = np.asarray(
                [at for at in ranked.tolist() if _allowed(post, found.get(int(index.post_id.array[at])), barriers)][:k],
                dtype=np.intp,
            )
            mine = np.full(len(best), me, dtype=np.intp)
            need_rows, offer_rows = (mine, best) if post.kind == PostKind.need else (best, mine)
            explained = self._explain(index, need_rows, offer_rows)
            others = index.post_id.view()[best].tolist()
        suggestions = []
        for other, score, why in zip(others, scores[best].tolist(), explained, strict=True):
            need, offer = (post, found[other]) if post.kind == PostKind.need else (found[other], post)
            suggestions.append(Suggestion(need, offer, round(float(score), 4), *why))
        return suggestions

    def rescore(self, session: Session, post: Post, others: Sequence[Post]) -> list[Suggestion]:
        """`post` (just edited) scored again against each of `others`, with its reasons, whatever
        the score: the caller decides, with `config.min_score`, which pairs still hold."""
        if post.id is None or not others:
            return []
        index = self.index(session, post.community_id, thorough=False)
        with index.lock:
            index.upsert(post)
            me = index.row_of[post.id]
            kept = [other for other in others if other.id in index.row_of]
            rows = np.asarray([index.row_of[other.id or 0] for other in kept], dtype=np.intp)
            scores = self._scores_of_row(index, me)[rows].tolist()
            mine = np.full(len(rows), me, dtype=np.intp)
            need_rows, offer_rows = (mine, rows) if post.kind == PostKind.need else (rows, mine)
            explained = self._explain(index, need_rows, offer_rows)
        suggestions = []
        for other, score, why in zip(kept, scores, explained, strict=True):
            need, offer = (post, other) if post.kind == PostKind.need else (other, post)
            suggestions.append(Suggestion(need, offer, round(float(score), 4), *why))
        return suggestions

    def _scores_of_row(self, index: CommunityIndex, row: int) -> npt.NDArray[np.float32]:
        """`Workspace.scores` for one post against every row (its own kind's rows are never used)."""
        weights = self.config.weights
        terms = index.term_matrix()
        query = np.asarray(terms[row].toarray(), dtype=np.float32).ravel()
        topics = index.topic_matrix()
        topic = np.asarray(weights.topic * (topics @ topics[row]), dtype=np.float32)
        concepts = index.concept_matrix()
        aims = np.asarray(concepts[row].toarray(), dtype=np.float32).ravel()
        concept = np.asarray(weights.concept * (concepts @ aims), dtype=np.float32)
        scores = np.asarray(weights.text * (terms @ query), dtype=np.float32) + topic + concept
        part = index.purpose()
        mine = part.offset + part.half * float(index.usual(np.asarray([row]))[0])
        purpose = np.full(len(scores), -mine, dtype=np.float32)
        others, cosines, usual = index.cosines_with(row)
        purpose[others] += np.float32(part.scale) * cosines - np.float32(part.half) * usual
        np.maximum(purpose, np.float32(part.least), out=purpose)
        scores += purpose
        np.clip(scores, 0.0, 1.0, out=scores)
        filed = filed_under_topics(topics)
        weak = np.empty((1, len(scores)), dtype=np.bool_)
        apart = ((topic <= 0) & (concept <= 0))[None, :]
        drop_apart(scores[None, :], apart, purpose[None, :], (filed[row : row + 1], filed), weights, weak=weak)
        return scores

    # --- rounds -------------------------------------------------------------------------------

    def run_round(
        self,
        session: Session,
        community_id: int,
        top_k: int = 3,
        *,
        capacity: int | None = None,
        min_score: float | None = None,
    ) -> RoundResult:
        """Up to `top_k` offers for every open need of the community, each offer given to at most
        `capacity` needs (best scores first), and every need left without one with the reason."""
        started = time.perf_counter()
        try:
            with collector_paused():
                return self._run_round(session, community_id, top_k, capacity=capacity, min_score=min_score)
        finally:
            if self._on_round is not None:
                self._on_round(time.perf_counter() - started)

    def _run_round(
        self, session: Session, community_id: int, top_k: int, *, capacity: int | None, min_score: float | None
    ) -> RoundResult:
        capacity = self.config.capacity if capacity is None else capacity
        min_score = self.config.min_score if min_score is None else min_score
        barriers = community_barriers(session, community_id, self._clock.now())
        index = self.index(session, community_id)
        with index.lock:
            needs, offers = self._side(index, NEED, barriers), self._side(index, OFFER, barriers)
            posts: dict[int, Post] = {}
            need_ids, offer_ids = needs.post_id.tolist(), offers.post_id.tolist()
            # Every need is in the result (suggested or unmatched), and most offers are (each goes to
            # up to `capacity` needs): read them all while the workers score, not the offers after.
            outcomes = self._outcomes(
                barriers,
                needs,
                offers,
                top_k * self.config.candidates,
                min_score,
                meanwhile=lambda: posts.update(_posts(session, need_ids + offer_ids)),
            )
            candidates = Candidates()
            for outcome in outcomes:
                candidates.add(outcome)
            need, offer, score = candidates.arrays()
            taken = assign(need, offer, score, per_need=top_k, capacity=capacity)
            need, offer, score = need[taken], offer[taken], score[taken]
            order = np.lexsort((-score, need))
            need, offer, score = need[order], offer[order], score[order]
            explained = self._explain(index, needs.rows[need], offers.rows[offer])
            reasons = _unmatched_reasons(outcomes, len(needs.rows), len(offers.rows), need)
        suggestions = [
            Suggestion(posts[need_ids[n]], posts[offer_ids[o]], round(s, 4), *why)
            for n, o, s, why in zip(need.tolist(), offer.tolist(), score.tolist(), explained, strict=True)
            if need_ids[n] in posts and _allowed(posts[need_ids[n]], posts.get(offer_ids[o]), barriers)
        ]
        unmatched = [
            Unmatched(posts[need_ids[n]], reason, round(best, 4))
            for n, (reason, best) in sorted(reasons.items())
            if need_ids[n] in posts
        ]
        return RoundResult(community_id, suggestions, unmatched, top_k, capacity, min_score)

    def scored_pairs(self, session: Session, community_id: int, *, per_need: int = 8) -> list[ScoredPair]:
        """The `per_need` best allowed pairs of each open need above the minimum score, no capacity
        applied: the material working groups are made of."""
        barriers = community_barriers(session, community_id, self._clock.now())
        index = self.index(session, community_id)
        with index.lock:
            needs, offers = self._side(index, NEED, barriers), self._side(index, OFFER, barriers)
            outcomes = self._outcomes(barriers, needs, offers, per_need, self.config.min_score)
            candidates = Candidates()
            for outcome in outcomes:
                candidates.add(outcome)
            need, offer, score = candidates.arrays()
            explained = self._explain(index, needs.rows[need], offers.rows[offer])
            return [
                ScoredPair(
                    int(needs.post_id[n]),
                    int(offers.post_id[o]),
                    int(needs.organisation[n]),
                    int(offers.organisation[o]),
                    round(float(s), 4),
                    topics,
                )
                for n, o, s, (topics, *_) in zip(need, offer, score, explained, strict=True)
            ]

    def _side(self, index: CommunityIndex, kind: int, barriers: Barriers) -> Side:
        """The open posts of one kind whose authors are not paused (see `eligibility`)."""
        rows = index.open_rows(kind, self._today())
        rows = rows[~np.isin(index.member.view()[rows], _ids(barriers.paused))]
        vectors = index.vectors(rows)
        return Side(
            rows=rows,
            terms=index.term_matrix()[rows],
            topics=index.topic_matrix()[rows],
            concepts=index.concept_matrix()[rows],
            semantic=vectors,
            usual=index.usual(rows),
            purpose=index.purpose(),
            organisation=index.organisation.view()[rows],
            member=index.member.view()[rows],
            post_id=index.post_id.view()[rows],
            weights=self.config.weights,
        )

    def _outcomes(
        self,
        barriers: Barriers,
        needs: Side,
        offers: Side,
        keep: int,
        min_score: float,
        *,
        meanwhile: Callable[[], object] = lambda: None,
    ) -> list[BlockOutcome]:
        """Score every block of needs; `meanwhile` runs on this thread (it may use the session)
        while the workers score."""
        rules = _exclusions(barriers, needs, offers)
        rows = max(1, min(self.config.block_rows, self.config.block_floats // max(len(offers.rows), 1)))
        parts = list(blocks(len(needs.rows), rows))
        workers = max(1, min(self.config.workers, len(parts)))
        offers.prepare()

        def score(share: Sequence[slice]) -> list[BlockOutcome]:
            workspace = Workspace(rows, len(offers.rows))
            return [
                score_block(part, needs, offers, rules, keep=keep, min_score=min_score, workspace=workspace)
                for part in share
            ]

        if workers == 1:
            meanwhile()
            return score(parts)
        # The products and the selection run in C without the GIL: each core takes every other block.
        with one_blas_thread(), short_switches(), ThreadPoolExecutor(workers, thread_name_prefix="matching") as pool:
            futures = [pool.submit(score, parts[start::workers]) for start in range(workers)]
            meanwhile()
            shares = [future.result() for future in futures]
        return [shares[at % workers][at // workers] for at in range(len(parts))]

    # --- reasons ------------------------------------------------------------------------------

    def _explain(
        self, index: CommunityIndex, need_rows: npt.NDArray[np.intp], offer_rows: npt.NDArray[np.intp]
    ) -> list[Why]:
        """Shared topics, key terms, whether the purpose carries each (need, offer) pair of index
        rows, and shared concepts, vectorised over all the pairs."""
        if len(need_rows) == 0:
            return []
        topics = index.topic_matrix()
        shared = topics[need_rows] * topics[offer_rows]
        concepts = index.concept_matrix()
        same_aim = np.asarray(concepts[need_rows].multiply(concepts[offer_rows]).toarray(), dtype=np.float32)
        terms = index.term_matrix()
        common = terms[need_rows].multiply(terms[offer_rows]).tocsr()
        text = np.asarray(common.sum(axis=1)).ravel()
        lexical = self.config.weights.topic * shared.sum(axis=1) + self.config.weights.concept * same_aim.sum(axis=1)
        purpose = self._purpose_carries(index, need_rows, offer_rows, lexical, text).tolist()
        languages = index.language.view()
        words = self._key_terms(index, common, languages[need_rows], languages[offer_rows])
        topic_slugs = _shared_slugs(shared, TOPIC_SLUGS, SHARED_TOPICS)
        concept_slugs = _shared_slugs(same_aim, CONCEPT_SLUGS, SHARED_CONCEPTS)
        return list(zip(topic_slugs, words, purpose, concept_slugs, strict=True))

    def _purpose_carries(
        self,
        index: CommunityIndex,
        need_rows: npt.NDArray[np.intp],
        offer_rows: npt.NDArray[np.intp],
        shared: npt.NDArray[np.float32],
        text_cosines: npt.NDArray[np.float32],
    ) -> npt.NDArray[np.bool_]:
        """Whether the sentence vectors carry each pair: their part alone reaches the minimum score
        and outweighs what shared topics and concepts (`shared`, weighted) and words give. The
        pairs' vectors are gathered once each (gathering each post's first, then the pairs', copied
        them twice), a slice of pairs at a time: a few MB that stay in cache, not two fresh 60 MB
        arrays."""
        weights = self.config.weights
        cosines = np.concatenate(
            [
                np.einsum("ij,ij->i", index.vectors(need_rows[part]), index.vectors(offer_rows[part]))
                for part in blocks(len(need_rows), _PAIR_SLICE)
            ]
        )
        part = index.purpose()
        usual = index.usual(need_rows) + index.usual(offer_rows)
        purpose = part.scale * cosines - part.half * usual - part.offset
        lexical = weights.text * text_cosines + shared
        return np.asarray((purpose >= self.config.min_score) & (purpose > lexical))

    def _key_terms(
        self,
        index: CommunityIndex,
        common: sp.csr_matrix,
        need_languages: npt.NDArray[np.int8],
        offer_languages: npt.NDArray[np.int8],
    ) -> list[tuple[str, ...]]:
        """Each pair's words for its shared term columns (`common`, a row per pair), strongest first
        (ties in stored order): up to `max_terms`, a stem and its cognate key counting once. Sorted
        and counted for all pairs at once; a key, and a column's words in a pair of languages, are
        made once each, not once per pair."""
        pairs = common.shape[0]
        pair_of = np.repeat(np.arange(pairs), np.diff(common.indptr))
        columns = common.indices[np.lexsort((np.arange(common.nnz), -common.data, pair_of))].astype(np.int64)
        distinct, inverse = np.unique(columns, return_inverse=True)
        keys: dict[str, int] = {}
        key_of = np.asarray(
            [
                keys.setdefault(index.term_names[column].removeprefix(PREFIX_MARK)[:PREFIX], len(keys))
                for column in distinct.tolist()
            ],
            dtype=np.int64,
        )
        # A key counts at its first (strongest) column in a pair.
        kept = np.zeros(len(columns), dtype=np.bool_)
        kept[np.unique(pair_of * max(len(keys), 1) + key_of[inverse.ravel()], return_index=True)[1]] = True
        if self.config.max_terms > 0:  # 0 names every key
            counted = np.cumsum(kept)
            kept &= counted - np.concatenate([[0], counted])[common.indptr[:-1]][pair_of] <= self.config.max_terms
        at = np.flatnonzero(kept)
        spoken = len(index.surfaces)
        codes = (columns[at] * spoken + need_languages[pair_of[at]]) * spoken + offer_languages[pair_of[at]]
        distinct, inverse = np.unique(codes, return_inverse=True)
        named = []
        for code in distinct.tolist():
            column, languages = divmod(code, spoken * spoken)
            mine, theirs = index.surface(column, languages // spoken), index.surface(column, languages % spoken)
            named.append(mine if mine == theirs else f"{mine}/{theirs}")
        words = [named[number] for number in inverse.ravel().tolist()]
        bounds = np.searchsorted(pair_of[at], np.arange(pairs + 1)).tolist()
        return [tuple(words[bounds[pair] : bounds[pair + 1]]) for pair in range(pairs)]

    # --- recording ----------------------------------------------------------------------------

    def record_round(self, session: Session, result: RoundResult) -> MatchRound:
        """Store a round's suggestions as `Match` rows (status suggested). A pair that already has a
        row keeps it untouched; recording the same result twice returns the same round."""
        if result.recorded_round_id is not None:
            existing = session.get(MatchRound, result.recorded_round_id)
            if existing is not None:
                return existing
        match_round = MatchRound(community_id=result.community_id, created_at=self._clock.now())
        session.add(match_round)
        session.flush()
        self._insert(session, result.community_id, result.suggestions, round_id=match_round.id)
        result.recorded_round_id = match_round.id
        return match_round

    def record(
        self, session: Session, community_id: int, suggestions: Sequence[Suggestion]
    ) -> dict[tuple[int, int], Match]:
        """Store instant suggestions as `Match` rows (status suggested, no round) unless the pair has
        one already; return each (need id, offer id) pair's row, new or old, so people can answer."""
        self._insert(session, community_id, suggestions, round_id=None)
        pairs = {(suggestion.need.id, suggestion.offer.id) for suggestion in suggestions}
        need_ids = {need for need, _ in pairs}
        stored = session.exec(select(Match).where(col(Match.need_id).in_(need_ids))).all()
        return {(m.need_id, m.offer_id): m for m in stored if (m.need_id, m.offer_id) in pairs}

    def _insert(
        self, session: Session, community_id: int, suggestions: Sequence[Suggestion], *, round_id: int | None
    ) -> None:
        """INSERT the pairs that have no `Match` row yet (a row that exists keeps its history)."""
        now = self._clock.now()
        rows = [
            {
                "community_id": community_id,
                "round_id": round_id,
                "need_id": suggestion.need.id,
                "offer_id": suggestion.offer.id,
                "score": suggestion.score,
                "reasons": suggestion.stored_reasons(),
                "status": MatchStatus.suggested.value,
                "need_response": Response.pending.value,
                "offer_response": Response.pending.value,
                "created_at": now,
                "updated_at": now,
            }
            for suggestion in suggestions
        ]
        if rows:
            session.exec(_insert_new_pairs(session), params=rows)
            _revive(session, suggestions, now)


def _revive(session: Session, suggestions: Sequence[Suggestion], now: datetime) -> None:
    """A pair withdrawn earlier (its author paused, its post edited away) that is suggested again
    is a fresh suggestion: nobody has answered this one yet."""
    scored = {(s.need.id, s.offer.id): s for s in suggestions}
    withdrawn = session.exec(
        select(Match).where(col(Match.need_id).in_({need for need, _ in scored}), Match.status == MatchStatus.withdrawn)
    ).all()
    for match in withdrawn:
        suggestion = scored.get((match.need_id, match.offer_id))
        if suggestion is None:
            continue
        match.status = MatchStatus.suggested
        match.need_response = match.offer_response = Response.pending
        match.score, match.reasons, match.updated_at = suggestion.score, suggestion.stored_reasons(), now
        session.add(match)


def _allowed(mine: Post, other: Post | None, barriers: Barriers) -> bool:
    """The rule itself, for a pair the masks let through (the index may lag other processes)."""
    if other is None:
        return False
    need, offer = (mine, other) if mine.kind == PostKind.need else (other, mine)
    return refusal(need, offer, barriers) is None


def _ids(members: Iterable[int]) -> npt.NDArray[np.int64]:
    return np.fromiter(members, dtype=np.int64)


def _excluded_for(index: CommunityIndex, post: Post, barriers: Barriers) -> npt.NDArray[np.bool_]:
    """Index rows `eligibility` forbids for this post, as a mask: settled pairs, paused authors and
    blocks either way (same organisation and open status are masked by the caller)."""
    excluded = np.zeros(index.post_id.rows, dtype=np.bool_)
    is_need = post.kind == PostKind.need
    settled = [offer if is_need else need for need, offer in barriers.settled if post.id in (need, offer)]
    excluded[[index.row_of[other] for other in settled if other in index.row_of]] = True
    excluded |= np.isin(index.organisation.view(), _ids(barriers.blocked_by(post.member_id)))
    excluded |= np.isin(index.member.view(), _ids(barriers.blockers_of(post.organisation_id) | barriers.paused))
    return excluded


def _insert_new_pairs(session: Session) -> Any:
    """INSERT ... ON CONFLICT (need_id, offer_id) DO NOTHING, on SQLite and PostgreSQL alike: a
    pair suggested before, or by a facilitator posting at the same moment, is not duplicated."""
    table = Match.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["need_id", "offer_id"])


def _posts(session: Session, ids: Sequence[int]) -> dict[int, Post]:
    """The posts with these ids, without their sentence vector: the index has it, and a round
    reads 20,000 posts."""
    found: dict[int, Post] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start : start + _IN_CHUNK]
        query = select(Post).where(col(Post.id).in_(chunk)).options(defer(_EMBEDDING))
        for post in session.exec(query).all():
            assert post.id is not None
            found[post.id] = post
    return found


def _exclusions(barriers: Barriers, needs: Side, offers: Side) -> Exclusions:
    """`eligibility`'s settled pairs and blocks as (needs x offers) masks of the round."""
    shape = (len(needs.rows), len(offers.rows))
    need_at = {int(post_id): at for at, post_id in enumerate(needs.post_id)}
    offer_at = {int(post_id): at for at, post_id in enumerate(offers.post_id)}
    pairs = [(need_at[n], offer_at[o]) for n, o in barriers.settled if n in need_at and o in offer_at]
    settled_matrix = pair_matrix(
        np.asarray([n for n, _ in pairs], dtype=np.int64),
        np.asarray([o for _, o in pairs], dtype=np.int64),
        shape,
    )
    need_parts, offer_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for member_id, organisation_id in barriers.blocks:  # one step per block, not per pair; either way
        for mine, theirs in (
            (np.flatnonzero(needs.member == member_id), np.flatnonzero(offers.organisation == organisation_id)),
            (np.flatnonzero(needs.organisation == organisation_id), np.flatnonzero(offers.member == member_id)),
        ):
            need_parts.append(np.repeat(mine, len(theirs)))
            offer_parts.append(np.tile(theirs, len(mine)))
    blocked_matrix = pair_matrix(np.concatenate(need_parts), np.concatenate(offer_parts), shape)
    return Exclusions(settled=settled_matrix, blocked=blocked_matrix)


def _shared_slugs(shared: npt.NDArray[np.float32], slugs: Sequence[str], most: int) -> list[tuple[str, ...]]:
    """Each pair's `most` strongest shared topics or concepts (ties in taxonomy order) as `slugs`,
    named once per distinct combination."""
    strongest = np.argsort(-shared, axis=1, kind="stable")[:, :most]
    strongest = np.where(np.take_along_axis(shared, strongest, axis=1) > 0, strongest, -1)
    distinct, inverse = np.unique(strongest, axis=0, return_inverse=True)
    named = [tuple(slugs[at] for at in row if at >= 0) for row in distinct.tolist()]
    return [named[at] for at in inverse.ravel().tolist()]


def _unmatched_reasons(
    outcomes: Sequence[BlockOutcome], need_count: int, offer_count: int, matched: npt.NDArray[np.int64]
) -> dict[int, tuple[UnmatchedReason, float]]:
    """For each need position without a suggestion: the first rule that explains it."""
    if not outcomes:
        return {}
    best = np.concatenate([o.best for o in outcomes])
    above = np.concatenate([o.above for o in outcomes])
    other_org = np.concatenate([o.above_other_org for o in outcomes])
    unsettled = np.concatenate([o.above_unsettled for o in outcomes])
    eligible = np.concatenate([o.above_eligible for o in outcomes])
    reason = np.full(need_count, "", dtype=object)
    reason[:] = UnmatchedReason.below_threshold
    reason[above] = UnmatchedReason.same_organisation
    reason[other_org] = UnmatchedReason.already_handled
    reason[unsettled] = UnmatchedReason.blocked
    reason[eligible] = UnmatchedReason.capacity
    if offer_count == 0:
        reason[:] = UnmatchedReason.no_offers
    left = np.ones(need_count, dtype=np.bool_)
    left[matched] = False
    return {int(at): (UnmatchedReason(reason[at]), float(best[at])) for at in np.flatnonzero(left)}
