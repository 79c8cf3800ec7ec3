"""What the matcher sees of posts: weighted topics and weighted terms (stems and cognate keys).

Posts are featurised a batch at a time with arrays, not one dict per post: the topic scanner and
the normaliser see the whole batch at once, and the term counts are summed with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.config import SUPPORTED_LANGUAGES
from bot.matching.config import Weights
from bot.matching.found import found_in
from bot.matching.text import Normaliser, resolve_language
from bot.matching.topic_scan import Ranked
from bot.topics import BY_SLUG, CONCEPTS, TOPICS

TOPIC_COLUMN = {topic.slug: number for number, topic in enumerate(TOPICS)}


@dataclass(frozen=True, slots=True)
class PostText:
    """The parts of a post the features are made from (a `Post` row or a draft)."""

    title: str
    description: str
    language: str | None
    topics: tuple[str, ...] = ()
    found: bytes | None = None  # the stored scan of title and description (bot/matching/found.py)


@dataclass(frozen=True, slots=True)
class Features:
    """The features of a batch of posts. A post's terms are `terms[indptr[i]:indptr[i + 1]]`, in
    the order the post first uses them."""

    languages: list[str]
    topics: npt.NDArray[np.float32]  # (posts, topics): raw topic weights
    concepts: npt.NDArray[np.float32]  # (posts, concepts): raw concept weights, found as topics are
    indptr: npt.NDArray[np.int64]
    terms: npt.NDArray[np.int64]  # the normaliser's term ids (stems and cognate keys)
    weights: npt.NDArray[np.float32]  # sublinear, title-weighted frequency
    words: list[str]  # the words of the batch, in order
    word_of: npt.NDArray[np.int64]  # per term: the first word of the post that gave it

    def language_numbers(self) -> npt.NDArray[np.int8]:
        return np.asarray([SUPPORTED_LANGUAGES.index(code) for code in self.languages], dtype=np.int8)


def topic_weights(
    texts: Sequence[PostText], weights: Weights
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(topics, concepts) of each post: chosen topics, topics found in the title, topics found in
    the description (most mentioned first), added up in that order; concepts found the same way
    (nobody chooses them), in the same scan."""
    topics = np.zeros((len(texts), len(TOPICS)), dtype=np.float64)
    chosen = [(at, TOPIC_COLUMN[slug]) for at, text in enumerate(texts) for slug in text.topics if slug in BY_SLUG]
    if chosen:
        rows, columns = zip(*chosen, strict=True)
        np.add.at(topics, (np.asarray(rows), np.asarray(columns)), weights.chosen_topic)
    found_topics, found_concepts = found_in(texts)
    concepts = np.zeros((len(texts), len(CONCEPTS)), dtype=np.float64)
    _add_found(topics, found_topics, weights)
    _add_found(concepts, found_concepts, weights)
    return topics.astype(np.float32), concepts.astype(np.float32)


def _add_found(found: npt.NDArray[np.float64], ranked: Ranked, weights: Weights) -> None:
    """Add what the scan found in the posts' titles (`weights.title` each) and descriptions (less
    for each rank down) to `found` (posts, columns); the scan's texts alternate title, description."""
    post, in_title = ranked.text // 2, ranked.text % 2 == 0
    title = in_title.nonzero()[0]
    np.add.at(found, (post[title], ranked.topic[title]), weights.title)
    body = (~in_title).nonzero()[0]
    np.add.at(found, (post[body], ranked.topic[body]), 1.0 / (1.0 + 0.5 * ranked.rank[body]))


def _sublinear(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The fifth "cooperative" says less than the first: 1 + log(count) (from 1 on). `math.log` on
    the few distinct counts gives exactly what it gives one post at a time."""
    distinct, inverse = np.unique(counts, return_inverse=True)
    mapped = np.asarray([1.0 + math.log(count) if count >= 1 else count for count in distinct.tolist()])
    return mapped[inverse] if len(distinct) else counts


def term_weights(
    normaliser: Normaliser, texts: Sequence[PostText], languages: Sequence[str], weights: Weights
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32], list[str], npt.NDArray[np.int64]]:
    """(indptr, term ids, weights, words, first word per term) of a batch: every word's stem and
    cognate key, the title's counting `weights.title` times, summed per post."""
    words: list[str] = []
    ids: list[int] = []
    part_sizes: list[int] = []
    for text, language in zip(texts, languages, strict=True):
        for part in (text.title, text.description):
            found = normaliser.split(part)
            words += found
            ids += normaliser.word_ids(found, language)
            part_sizes.append(len(found))
    # Each word gives its stem, then its cognate key: the order a post first uses its terms in.
    stems, keys = normaliser.term_ids(np.asarray(ids, dtype=np.int64))
    both = np.stack([stems, keys], axis=1).ravel()
    present = both >= 0
    terms = both[present]
    word_of = np.repeat(np.arange(len(ids), dtype=np.int64), 2)[present]
    part_of = np.repeat(np.arange(len(part_sizes), dtype=np.int64), part_sizes)[word_of]
    weight = np.where(part_of % 2 == 0, weights.title, 1.0)
    weight = np.where(np.tile([False, True], len(ids))[present], weight * weights.cognate, weight)
    # Sum per (post, term), then list each post's terms in the order it first uses them.
    width = max(len(normaliser.terms), 1)
    pairs, first, inverse = np.unique((part_of // 2) * width + terms, return_index=True, return_inverse=True)
    counts = np.asarray(np.bincount(inverse.ravel(), weights=weight, minlength=len(pairs)), dtype=np.float64)
    order = np.argsort(first, kind="stable")
    post = pairs[order] // width
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(post, minlength=len(texts)), out=indptr[1:])
    values = _sublinear(counts[order]).astype(np.float32)
    return indptr, pairs[order] % width, values, words, word_of[first[order]]


def featurise(normaliser: Normaliser, texts: Sequence[PostText], weights: Weights) -> Features:
    languages = [
        text.language
        if text.language in SUPPORTED_LANGUAGES
        else resolve_language(f"{text.title}\n{text.description}", text.language)
        for text in texts
    ]
    indptr, terms, values, words, word_of = term_weights(normaliser, texts, languages, weights)
    topics, concepts = topic_weights(texts, weights)
    return Features(languages, topics, concepts, indptr, terms, values, words, word_of)
