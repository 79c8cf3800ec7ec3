"""The vectorised part of a round: scores of needs x offers in blocks, the rules as masks, the best
candidates per need, and the capacity-limited assignment. No Python loop runs over pairs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.matching.config import Purpose, Weights

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_CHUNK = 64  # columns per block maximum when looking for each row's best values


@dataclass
class Side:
    """One side of a round (needs or offers): index rows and what the rules look at."""

    rows: npt.NDArray[np.intp]
    terms: sp.csr_matrix
    topics: Floats
    concepts: sp.csr_matrix
    semantic: Floats  # sentence vectors
    usual: Floats  # each post's usual cosine with the other kind's posts
    purpose: Purpose  # how their cosines score in this community
    organisation: Ints
    member: Ints
    post_id: Ints
    weights: Weights

    @cached_property
    def terms_t(self) -> sp.csr_matrix:
        """The transposed term matrix times its weight, made once per round (CSR @ CSR is the
        fast product, and the weight folded in saves a pass over every block of scores)."""
        return sp.csr_matrix(self.terms.T * np.float32(self.weights.text), dtype=np.float32)

    @cached_property
    def shared(self) -> Floats:
        """Topics and concepts side by side: one product with the other side's `shared_t` is what a
        pair shares of both, weighted (the second product would cost a pass over every block)."""
        return np.ascontiguousarray(np.hstack([self.topics, self.concepts.toarray()]), dtype=np.float32)

    @cached_property
    def shared_t(self) -> Floats:
        topics, concepts = self.topics.shape[1], self.concepts.shape[1]
        weighted = np.asarray([self.weights.topic] * topics + [self.weights.concept] * concepts, dtype=np.float32)
        return np.ascontiguousarray((self.shared * weighted).T, dtype=np.float32)

    @cached_property
    def semantic_t(self) -> Floats:
        return np.ascontiguousarray(self.semantic.T * np.float32(self.purpose.scale), dtype=np.float32)

    @cached_property
    def shift(self) -> Floats:
        """What each post's usual cosine takes off its pairs' scores (`config.Purpose`)."""
        return np.asarray(self.usual * np.float32(self.purpose.half), dtype=np.float32)

    @cached_property
    def filed(self) -> Bools:
        return filed_under_topics(self.topics)

    @cached_property
    def by_organisation(self) -> tuple[Ints, Ints]:
        """(positions sorted by organisation, their organisations): who belongs to an organisation."""
        order = np.argsort(self.organisation, kind="stable")
        return order, self.organisation[order]

    def prepare(self) -> None:
        """Make the cached products now (before threads share this side)."""
        _ = self.terms_t, self.shared, self.shared_t, self.semantic_t, self.shift, self.filed, self.by_organisation

    def of_organisations(self, organisations: Ints) -> tuple[Ints, Ints]:
        """(i, position) for every position of this side whose organisation is `organisations[i]`."""
        order, sorted_organisations = self.by_organisation
        left = np.searchsorted(sorted_organisations, organisations, side="left")
        counts = np.searchsorted(sorted_organisations, organisations, side="right") - left
        which = np.repeat(np.arange(len(organisations), dtype=np.int64), counts)
        within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        return which, order[np.repeat(left, counts) + within]


@dataclass
class Exclusions:
    """Pairs the rules forbid besides same-organisation ones, as sparse (needs x offers) booleans."""

    settled: sp.csr_matrix  # declined, accepted, introduced, met, not useful
    blocked: sp.csr_matrix  # the need's author blocked the offer's organisation


@dataclass
class BlockOutcome:
    """Per need of a block: the best candidates and which rule stopped the others."""

    need: Ints  # local need positions of candidates
    offer: Ints
    score: Floats
    best: Floats  # best score of each need over all offers, rules ignored
    above: Bools  # some offer scored above the threshold
    above_other_org: Bools  # ... from another organisation
    above_unsettled: Bools  # ... and not settled
    above_eligible: Bools  # ... and not blocked either


@dataclass
class Candidates:
    need: list[Ints] = field(default_factory=list)
    offer: list[Ints] = field(default_factory=list)
    score: list[Floats] = field(default_factory=list)

    def add(self, outcome: BlockOutcome) -> None:
        self.need.append(outcome.need)
        self.offer.append(outcome.offer)
        self.score.append(outcome.score)

    def arrays(self) -> tuple[Ints, Ints, Floats]:
        if not self.need:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        return np.concatenate(self.need), np.concatenate(self.offer), np.concatenate(self.score)


def pair_matrix(need: Ints, offer: Ints, shape: tuple[int, int]) -> sp.csr_matrix:
    """A sparse boolean matrix with True at the given (need, offer) positions."""
    ones = np.ones(len(need), dtype=np.bool_)
    return sp.csr_matrix((ones, (need, offer)), shape=shape, dtype=np.bool_)


class Workspace:
    """Score buffers reused from block to block (one per thread): a fresh 40 MB array costs its
    page faults every time it is allocated."""

    def __init__(self, rows: int, offers: int) -> None:
        self.text = np.empty((rows, offers), dtype=np.float32)
        self.topic = np.empty((rows, offers), dtype=np.float32)
        self.apart = np.empty((rows, offers), dtype=np.bool_)
        self.weak = np.empty((rows, offers), dtype=np.bool_)

    def scores(self, needs: Side, part: slice | npt.NDArray[np.intp], offers: Side) -> Floats:
        """Dense scores of some needs against all offers: the sum of the three parts (`Weights`),
        clipped to [0, 1], and 0 for the pairs `drop_apart` keeps out."""
        needs_terms = needs.terms[part]
        rows = needs_terms.shape[0]
        block: Floats = sp.csr_matrix(needs_terms @ offers.terms_t, dtype=np.float32).toarray(out=self.text[:rows])
        shared = np.matmul(needs.shared[part], offers.shared_t, out=self.topic[:rows])
        block += shared
        # Both parts are never negative: a pair is apart when it shares no topic and no concept.
        apart = np.less_equal(shared, 0.0, out=self.apart[:rows])
        purpose = np.matmul(needs.semantic[part], offers.semantic_t, out=self.topic[:rows])
        purpose -= (needs.shift[part] + np.float32(offers.purpose.offset))[:, None]
        purpose -= offers.shift[None, :]
        np.maximum(purpose, np.float32(offers.purpose.least), out=purpose)
        block += purpose
        np.clip(block, 0.0, 1.0, out=block)
        filed = (needs.filed[part], offers.filed)
        drop_apart(block, apart, purpose, filed, needs.weights, weak=self.weak[:rows])
        return block


def filed_under_topics(topics: Floats) -> Bools:
    """Which posts have a taxonomy topic (chosen or detected). Topic weights are never negative, so
    a product with ones says it: twenty times faster than `any` over 100,000 rows (an instant
    suggestion's budget)."""
    return np.asarray(topics @ np.ones(topics.shape[1], dtype=np.float32) > 0, dtype=np.bool_)


def drop_apart(
    scores: Floats, apart: Bools, purpose: Floats, filed: tuple[Bools, Bools], weights: Weights, *, weak: Bools
) -> None:
    """The honest threshold's second half (the first is `MatchingConfig.min_score`): a pair whose two
    posts are both `filed` under taxonomy topics (needs, offers) but share no topic and no concept
    (`apart`: their product is 0) scores 0 unless its purpose part reaches `Weights.apart_part`. A few shared
    words and a middling sentence cosine are what unrelated posts of one field get (the demo's "data
    observatory" and "communication strategy"); paraphrase that the taxonomy misses stays, as its
    posts are seldom both filed. All (needs x offers); `weak` is overwritten. Four passes over the
    scores (a round makes 100 million), the unfiled rows and columns cleared apart. `scores` are
    clipped already: never negative, so a product with False gives +0.0, exactly as setting 0
    would, at half the cost of a masked copy."""
    np.less(purpose, np.float32(weights.apart_part), out=weak)
    weak &= apart
    weak[~filed[0]] = False
    weak[:, ~filed[1]] = False
    np.logical_not(weak, out=weak)
    np.multiply(scores, weak, out=scores)


def scores(needs: Side, part: slice | npt.NDArray[np.intp], offers: Side) -> Floats:
    """`Workspace.scores` without a workspace (for a few needs)."""
    rows = len(range(needs.terms.shape[0])[part]) if isinstance(part, slice) else len(part)
    return Workspace(rows, offers.terms.shape[0]).scores(needs, part, offers)


def blocks(size: int, step: int) -> Iterator[slice]:
    for start in range(0, size, step):
        yield slice(start, min(start + step, size))


def score_block(
    part: slice,
    needs: Side,
    offers: Side,
    rules: Exclusions,
    *,
    keep: int,
    min_score: float,
    workspace: Workspace | None = None,
) -> BlockOutcome:
    """The `keep` best eligible offers (above `min_score`) of each need in `part`, and per need which
    rule removed the offers above the threshold. The rules forbid few pairs: they are applied at
    their positions, not as dense masks."""
    workspace = workspace or Workspace(part.stop - part.start, len(offers.rows))
    block = workspace.scores(needs, part, offers)
    best: Floats = block.max(axis=1) if block.shape[1] else np.zeros(block.shape[0], np.float32)
    block[offers.of_organisations(needs.organisation[part])] = -1.0
    for forbidden in (rules.settled[part], rules.blocked[part]):
        if forbidden.nnz:
            block[forbidden.nonzero()] = -1.0
    need, offer, score = top_per_row(block, keep, min_score)
    need += part.start
    has = np.zeros(block.shape[0], dtype=np.bool_)
    has[need - part.start] = True
    above, other_org, unsettled = _flags(part, np.flatnonzero(~has), needs, offers, rules, min_score)
    return BlockOutcome(need, offer, score, best, above | has, other_org | has, unsettled | has, has)


def top_per_row(block: Floats, keep: int, min_score: float) -> tuple[Ints, Ints, Floats]:
    """(row, column, value) of each row's `keep` largest values that reach `min_score`, best first
    (ties by column). A row's `keep`-th largest block maximum (blocks of `_CHUNK` columns) is a
    bound below its `keep`-th largest value, so only the few values above it are sorted."""
    rows, width = block.shape
    if rows == 0 or width == 0 or keep <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    starts = np.arange(0, width, _CHUNK)
    if len(starts) <= keep:
        row, column = np.nonzero(block >= min_score)
    else:
        maxima = np.maximum.reduceat(block, starts, axis=1)
        kth = len(starts) - keep
        floor = np.maximum(np.partition(maxima, kth, axis=1)[:, kth], np.float32(min_score))
        # Only the chunks whose maximum reaches the floor hold values that do: gather those.
        chunk_row, chunk = np.nonzero(maxima >= floor[:, None])
        columns = (chunk * _CHUNK)[:, None] + np.arange(_CHUNK)
        inside = columns < width
        np.minimum(columns, width - 1, out=columns)
        hit = inside & (block[chunk_row[:, None], columns] >= floor[chunk_row, None])
        row, column = np.broadcast_to(chunk_row[:, None], columns.shape)[hit], columns[hit]
    value = block[row, column]
    order = np.lexsort((column, -value, row))
    row, column, value = row[order], column[order], value[order]
    first = np.searchsorted(row, row, side="left")
    kept = np.arange(len(row)) - first < keep
    return row[kept].astype(np.int64), column[kept].astype(np.int64), value[kept]


def _flags(
    part: slice, empty: npt.NDArray[np.intp], needs: Side, offers: Side, rules: Exclusions, min_score: float
) -> tuple[Bools, Bools, Bools]:
    """For the needs of `part` left without a candidate (`empty`, positions in the part): whether
    any offer reached the threshold, any of another organisation, and any of those not settled.
    Their scores are made again: they are few."""
    size = part.stop - part.start
    above, other, unsettled = (np.zeros(size, dtype=np.bool_) for _ in range(3))
    if len(empty) == 0 or offers.terms.shape[0] == 0:
        return above, other, unsettled
    rows = empty + part.start
    block = scores(needs, rows, offers) >= min_score
    other_org = needs.organisation[rows, None] != offers.organisation[None, :]
    settled = rules.settled[rows].toarray()
    above[empty] = block.any(axis=1)
    other[empty] = (block & other_org).any(axis=1)
    unsettled[empty] = (block & other_org & ~settled).any(axis=1)
    return above, other, unsettled


def assign(need: Ints, offer: Ints, score: Floats, *, per_need: int, capacity: int) -> npt.NDArray[np.intp]:
    """Greedy by score: a candidate is taken while its need has fewer than `per_need` and its offer
    fewer than `capacity`. Returns the positions of the candidates taken, best first. The loop runs
    over the few candidates per need, never over all pairs."""
    order = np.argsort(-score, kind="stable")
    need_count: dict[int, int] = {}
    offer_count: dict[int, int] = {}
    taken: list[int] = []
    for position, n, o in zip(order.tolist(), need[order].tolist(), offer[order].tolist(), strict=True):
        if need_count.get(n, 0) < per_need and offer_count.get(o, 0) < capacity:
            need_count[n] = need_count.get(n, 0) + 1
            offer_count[o] = offer_count.get(o, 0) + 1
            taken.append(position)
    return np.asarray(taken, dtype=np.intp)
