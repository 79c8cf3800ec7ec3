"""Every knob of the matcher in one place: score weights, feature weights and round rules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from storage.models import MatchStatus


@dataclass(frozen=True, slots=True)
class Purpose:
    """How sentence cosines score in one community. A pair's purpose part is `semantic * (z - floor)`,
    where z says how far the pair's cosine stands above what each of the two posts usually gets:
    `z = (2 cos - usual(need) - usual(offer)) / (2 spread)`, that is
    `scale * cos - half * usual(need) - half * usual(offer) - offset`. A post's usual cosine is its
    mean cosine with the other kind's posts (`Weights.usual`); the spread is the community's
    standard deviation of need-offer cosines (`Weights.purpose`)."""

    scale: float  # per unit of the pair's cosine
    half: float  # per unit of each post's usual cosine
    offset: float  # the floor, in score
    least: float  # the purpose part never goes below this (`Weights.doubt`)


@dataclass(frozen=True, slots=True)
class Weights:
    """How a pair's score in [0, 1] is made: `purpose + topic * cos(topic vectors) + concept *
    cos(concept vectors) + text * cos(term vectors)`, clipped to [0, 1]. The purpose part
    (`Purpose`) is `semantic` per standard deviation that the pair's sentence cosine stands above
    what the need and the offer each usually get, counted from `floor` standard deviations:
    negative below it, so a pair with nothing in common in meaning loses what a shared word alone
    would give it. Measuring the cosine against
    each post's own usual cosines is what makes it fair: a post that is close to everything (a
    generic "we support the social economy") gets no bonus for it, and a community whose posts all
    write about the same field has a higher usual cosine than a mixed one. Tuned on Peerlink's own
    labelled sets (tests/data/matching_eval*.json), a development set and the demo partnership
    (README, Matching)."""

    semantic: float = 0.2  # per standard deviation above the floor (bot/matching/encoder.py)
    topic: float = 0.15  # shared taxonomy topics: the bridge between languages
    text: float = 0.1  # shared stems and cognates: the detail within a topic, and what topics miss
    # Shared concepts (`bot.topics.CONCEPTS`): finer purposes than topics, each with the many ways
    # it is said in each language, so a pair that says one purpose in other words still meets.
    concept: float = 0.15
    floor: float = 1.25  # standard deviations above the usual cosines where the purpose part is 0
    # The most the purpose part takes off a pair (`Purpose.least`): the encoder gives some pairs that
    # serve one purpose in other words a low cosine (a need to open procurement to social enterprises
    # and an offer of social clauses in tenders); past this, the taxonomy and the shared words speak.
    doubt: float = 0.08
    # The honest threshold's second half (`scoring.drop_apart`): when both posts are filed under
    # taxonomy topics and share no topic and no concept, the taxonomy says they are about different
    # things, and only a pair whose sentence cosine stands this many standard deviations above the
    # usual is shown.
    apart: float = 1.67
    # A small community's usual cosines and spread are drawn towards these priors (what the USE
    # multilingual encoder gives unrelated posts), as if they had this many more pairs at the prior:
    prior_cosine: float = 0.22
    prior_spread: float = 0.1
    prior_pairs: int = 20
    # Inside a post's vectors:
    title: float = 2.0  # a word or topic in the title counts this many times one in the description
    chosen_topic: float = 2.0  # a topic the author picked counts this much; a detected one counts 1
    cognate: float = 1.0  # the 5-letter stem prefix that bridges related languages, against a full stem 1

    def __post_init__(self) -> None:
        if min(self.semantic, self.topic, self.text, self.concept) < 0:
            raise ValueError("semantic, topic, text and concept weights must be non-negative")

    @property
    def apart_part(self) -> float:
        """The purpose part (`Purpose`) a pair filed under different topics must reach."""
        return self.semantic * (self.apart - self.floor)

    def purpose(self, variance: float, pairs: int) -> Purpose:
        """The purpose part for a community whose `pairs` need-offer pairs have this variance of
        cosines (a small community's leans on the prior)."""
        weight = self.prior_pairs / (pairs + self.prior_pairs)
        spread = float(np.sqrt((1 - weight) * variance + weight * self.prior_spread**2))
        scale = self.semantic / spread
        return Purpose(scale, scale / 2, self.semantic * self.floor, -self.doubt)

    def usual(self, means: npt.NDArray[np.float32], others: int) -> npt.NDArray[np.float32]:
        """Posts' usual cosines: their mean cosines with the `others` posts of the other kind,
        drawn towards the prior in a small community."""
        weight = self.prior_pairs / (others + self.prior_pairs)
        return np.asarray(means * np.float32(1 - weight) + np.float32(weight * self.prior_cosine), dtype=np.float32)


WEIGHTS = Weights()

# Statuses after which a pair is never suggested again.
SETTLED = frozenset(
    {
        MatchStatus.declined,
        MatchStatus.accepted,
        MatchStatus.introduced,
        MatchStatus.met,
        MatchStatus.not_useful,
    }
)


@dataclass(frozen=True, slots=True)
class MatchingConfig:
    weights: Weights = WEIGHTS
    # Below this a pair is not worth a person's time: nothing is shown, "no good match yet". With
    # `Weights.apart`, calibrated so that the demo's unrelated pairs go while recall holds (README).
    min_score: float = 0.02
    capacity: int = 5  # in one round, one offer goes to at most this many needs
    candidates: int = 4  # per need, top_k * candidates pairs compete for the capacity
    block_rows: int = 1024  # needs scored at once in a round (memory: two block_rows x offers floats) ...
    block_floats: int = 8_000_000  # ... but fewer when one block would hold more scores than this (32 MB)
    workers: int = 2  # threads scoring blocks in a round (the products run without the GIL)
    max_terms: int = 3  # key terms named in a reason
    post_terms: int = 32  # a post's strongest terms kept: the products cost grows with their square
    max_df: float = 0.25  # a term in more posts than this share says nothing about a pair (sklearn's max_df)
    min_pruned: int = 50  # ... unless it is in fewer posts than this (small communities keep every term)
    refit_growth: float = 0.25  # re-weight the whole index after this share of new or changed posts
