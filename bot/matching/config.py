"""Every knob of the matcher in one place: score weights, feature weights and round rules."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import MatchStatus


@dataclass(frozen=True, slots=True)
class Purpose:
    """How a sentence cosine enters a score: `scale * cos - offset`, which is 0 at the floor."""

    scale: float
    offset: float


@dataclass(frozen=True, slots=True)
class Weights:
    """How a pair's score in [0, 1] is made. `semantic` + `topic` + `text` add up to 1: the score is
    `semantic * purpose + topic * cos(topic vectors) + text * cos(term vectors)`, clipped to [0, 1].
    `purpose` is the sentence vectors' cosine rescaled so that the community's floor counts as 0:
    `(cos - floor) / (1 - floor)`, negative below it, so a pair with nothing in common in meaning
    loses what a shared word alone would give it. The floor is what two unrelated posts of this
    community get: its mean need-offer cosine (a community that all writes about the social economy
    sits higher than a mixed one) plus `floor_margin`. Tuned on Peerlink's own labelled sets
    (tests/data/matching_eval*.json) and the demo partnership (README, Matching)."""

    semantic: float = 0.7  # what the post is for, in any language and any words (bot/matching/encoder.py)
    topic: float = 0.15  # shared taxonomy topics: the bridge between languages
    text: float = 0.15  # shared stems and cognates: the detail within a topic, and what topics miss
    floor_margin: float = 0.15  # above the community's mean need-offer cosine
    # A small community's mean is drawn towards this prior (the mean cosine of unrelated posts
    # for the USE multilingual encoder), as if it had this many more pairs at the prior:
    prior_cosine: float = 0.2
    prior_pairs: int = 20
    # Inside a post's vectors:
    title: float = 2.0  # a word or topic in the title counts this many times one in the description
    chosen_topic: float = 2.0  # a topic the author picked counts this much; a detected one counts 1
    cognate: float = 1.0  # the 5-letter stem prefix that bridges related languages, against a full stem 1

    def __post_init__(self) -> None:
        parts = (self.semantic, self.topic, self.text)
        if abs(sum(parts) - 1.0) > 1e-9 or min(parts) < 0:
            raise ValueError("semantic, topic and text weights must be non-negative and add up to 1")

    def purpose(self, mean_cosine: float, pairs: int) -> Purpose:
        """The purpose part for a community whose `pairs` need-offer pairs have this mean cosine."""
        mean = (mean_cosine * pairs + self.prior_cosine * self.prior_pairs) / (pairs + self.prior_pairs)
        floor = min(max(mean + self.floor_margin, 0.0), 0.9)
        return Purpose(self.semantic / (1.0 - floor), self.semantic * floor / (1.0 - floor))


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
    # Below this a pair is not worth a person's time: nothing is shown, "no good match yet".
    # Calibrated with the floor so that the demo's unrelated pairs go while recall holds (README).
    min_score: float = 0.04
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
