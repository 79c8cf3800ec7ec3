"""The vectorised part of a round: scores of needs x offers in blocks, the rules as masks, the best
candidates per need, and the capacity-limited assignment. No Python loop runs over pairs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.matching.config import Weights

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Side:
    """One side of a round (needs or offers): index rows and what the rules look at."""

    rows: npt.NDArray[np.intp]
    terms: sp.csr_matrix
    topics: Floats
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
    def topics_t(self) -> Floats:
        return np.ascontiguousarray(self.topics.T * np.float32(self.weights.topic), dtype=np.float32)


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


def scores(needs_terms: sp.csr_matrix, needs_topics: Floats, offers: Side) -> Floats:
    """Dense scores of some needs against all offers: the weighted sum of the two cosines."""
    block = np.asarray((needs_terms @ offers.terms_t).toarray(), dtype=np.float32)
    block += needs_topics @ offers.topics_t
    return block  # cosines of non-negative vectors: already in [0, 1] up to rounding


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
) -> BlockOutcome:
    """The `keep` best eligible offers (above `min_score`) of each need in `part`, and per need which
    rule removed the offers above the threshold."""
    block = scores(needs.terms[part], needs.topics[part], offers)
    above = block >= min_score
    other_org = needs.organisation[part, None] != offers.organisation[None, :]
    settled, blocked = rules.settled[part], rules.blocked[part]
    unsettled = other_org & ~settled.toarray() if settled.nnz else other_org
    eligible = unsettled & ~blocked.toarray() if blocked.nnz else unsettled
    flags: tuple[Bools, Bools, Bools, Bools] = (
        np.asarray(above.any(axis=1)),
        np.asarray((above & other_org).any(axis=1)),
        np.asarray((above & unsettled).any(axis=1)),
        np.asarray((above & eligible).any(axis=1)),
    )
    best: Floats = block.max(axis=1) if block.shape[1] else np.zeros(block.shape[0], np.float32)
    block[~eligible] = -1.0
    keep = min(keep, block.shape[1])
    if keep == 0:
        empty = np.zeros(0, np.int64)
        return BlockOutcome(empty, empty, np.zeros(0, np.float32), best, *flags)
    top = np.argpartition(block, block.shape[1] - keep, axis=1)[:, -keep:]
    top_scores = np.take_along_axis(block, top, axis=1)
    chosen = top_scores >= min_score
    need_local = np.broadcast_to(np.arange(part.start, part.stop)[:, None], top.shape)[chosen]
    return BlockOutcome(need_local.astype(np.int64), top[chosen].astype(np.int64), top_scores[chosen], best, *flags)


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
