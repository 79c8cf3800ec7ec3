"""Peer matching: needs meet offers across languages, with reasons, at scale.

`Matcher` (one per process, in `Deps.matcher`) gives instant suggestions for a saved post
(`suggest`), whole rounds with the needs left out and why (`run_round`), and stores a round
(`record_round`). Weights and knobs live in `config.py`; what may be suggested at all, in
`eligibility.py`.
"""

from bot.matching.config import WEIGHTS, MatchingConfig, Weights
from bot.matching.matcher import Matcher, RoundResult, ScoredPair, Suggestion, Unmatched, UnmatchedReason
from bot.matching.reasons import render_stored

__all__ = [
    "WEIGHTS",
    "Matcher",
    "MatchingConfig",
    "RoundResult",
    "ScoredPair",
    "Suggestion",
    "Unmatched",
    "UnmatchedReason",
    "Weights",
    "render_stored",
]
