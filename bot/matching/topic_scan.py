"""`bot.topics.detect_topics`, answered in bulk for indexing.

`detect_topics` runs one large regular expression per topic over a text: about 0.3 ms a call,
which is 12 s for the 40,000 calls of a 20,000-post index. This scanner reads the same taxonomy
data and gives the same answer (a test compares both on many texts) for a whole batch of texts at
once: the texts are folded and split into words in one go, every keyword sits in one trie, and
what a word matches from the trie's root is remembered per distinct word, so a word seen before
costs a dictionary read. Like the regexes, it counts a keyword only at a word start, prefers the
longest keyword of a topic there, and does not count a topic again inside its own match.

Posts keep what this scan found in them (`bot.matching.found`), named by the lexicon's digest: a
change to how this module counts, with the same lexicon, must bump `found._FORMAT`, or stored
scans made by the old rules would still be read.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, compress, repeat
from operator import contains, itemgetter

import numpy as np
import numpy.typing as npt

from bot.topics import _EXTRA_FOLDS, CONCEPTS, TOPICS  # the exact folding the taxonomy matches on

_SPLIT = re.compile(r"(\W+)")  # words and the runs of other characters between them, alternating
_NON_WORD = re.compile(r"\W")
_SEPARATOR = "\x00"  # no keyword holds it: texts joined by it are scanned apart
_STAND_IN = "\x01"  # ... so a text's own NULs become another character no keyword holds
_ACCENTS = re.compile("[\u0300-\u036f]+")  # the combining marks of Latin text, checked cheaply
_BEYOND_LATIN = re.compile("[^\x00-\u036f\u2000-\u206f]+")  # runs that may hold other scripts' marks
_EXTRA = tuple((chr(code), str(value)) for code, value in _EXTRA_FOLDS.items())
# One trie and one scan for both: numbers below len(TOPICS) are topics, the rest concepts.
SCANNED = TOPICS + CONCEPTS
# ((topic number, 1 if its keyword ends in the last word walked else 0), ...), node to go on from or -1
Entry = tuple[tuple[tuple[int, int], ...], int]


@cache
def _combining() -> re.Pattern[str]:
    """A character class of every combining mark (built once, about 0.2 s)."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]+")


def _strip_other_marks(run: re.Match[str]) -> str:
    return _combining().sub("", run.group())


def fold(text: str) -> str:
    """Exactly `bot.topics._fold`, at C speed: lowercase, extra folds, NFKD, no combining marks.
    Every step maps characters one by one, so folding joined texts equals joining folded ones."""
    if text.isascii():  # nothing to decompose
        return text.lower()
    lowered = text.lower()
    for letter, replacement in _EXTRA:  # str.replace is far faster than str.translate on long texts
        lowered = lowered.replace(letter, replacement)
    folded = _ACCENTS.sub("", unicodedata.normalize("NFKD", lowered))
    try:
        folded.encode("latin-1")  # nothing past U+00FF: no combining mark is left
    except UnicodeEncodeError:
        # Marks outside U+0300-U+036F (other scripts) are rare: only runs past Latin are checked.
        return _BEYOND_LATIN.sub(_strip_other_marks, folded)
    return folded


@dataclass(frozen=True, slots=True)
class _Trie:
    children: list[dict[str, int]]  # node -> next character -> node; node 0 is the root
    ends: list[tuple[tuple[int, bool], ...]]  # node -> (topic number, whole word only) of keywords ending here
    bridges: list[bool]  # node -> some keyword goes on with a non-word character (a space, a hyphen)


@cache
def _trie() -> _Trie:
    """Every folded keyword and label of every topic and concept; `$` keywords must end a word."""
    children: list[dict[str, int]] = [{}]
    ends: list[list[tuple[int, bool]]] = [[]]
    for number, topic in enumerate(SCANNED):
        entries = [
            (kw[:-1], True) if kw.endswith("$") else (kw, False) for kws in topic.keywords.values() for kw in kws
        ]
        entries += [(text, False) for text in topic.labels.values()]
        for text, whole in entries:
            node = 0
            for character in fold(text):
                if character not in children[node]:
                    children[node][character] = len(children)
                    children.append({})
                    ends.append([])
                node = children[node][character]
            if node and (number, whole) not in ends[node]:
                ends[node].append((number, whole))
    bridges = [any(_NON_WORD.match(character) for character in following) for following in children]
    return _Trie(children, [tuple(found) for found in ends], bridges)


def _walk(node: int, word: str) -> Entry | None:
    """The keywords that end inside `word` when the trie is entered at `node`, and the node to go
    on from after it (or -1). `word` is a whole run of word characters, so a whole-word keyword
    may only end at its end."""
    trie = _trie()
    hits: dict[int, int] = {}
    last = len(word) - 1
    for at, character in enumerate(word):
        node = trie.children[node].get(character, -1)
        if node < 0:
            break
        for number, whole in trie.ends[node]:
            if not whole or at == last:
                hits[number] = 1  # ends in this word (a longer keyword of the topic replaces a shorter one)
    onward = node if node >= 0 and trie.bridges[node] else -1  # a non-word character follows `word`
    return (tuple(hits.items()), onward) if hits or onward >= 0 else None


class _FromRoot(dict[str, Entry | None]):
    """word -> `_walk(0, word)`, filled on first sight (a word is walked once per process)."""

    def __missing__(self, word: str) -> Entry | None:
        found = self[word] = _walk(0, word)
        return found


_FROM_ROOT = _FromRoot()


@lru_cache(maxsize=1 << 16)
def _step(node: int, separator: str, following: str) -> Entry | None:
    """`_walk` on from `node` through a run of non-word characters and the word after it (""
    at the end of the text). A keyword's end is 0 when it ends in `separator`, 1 in `following`."""
    trie = _trie()
    hits: dict[int, int] = {}
    for offset, character in enumerate(separator):
        node = trie.children[node].get(character, -1)
        if node < 0:
            return (tuple(hits.items()), -1) if hits else None
        # A keyword ending on a non-word character ends a word only when a word follows.
        bounded = offset == len(separator) - 1 and following != ""
        hits.update((number, 0) for number, whole in trie.ends[node] if not whole or bounded)
    entry = _walk(node, following) if following else None
    if entry is not None:
        hits.update(entry[0])
    onward = entry[1] if entry is not None else -1
    return (tuple(hits.items()), onward) if hits or onward >= 0 else None


def _flatten(
    entries: list[Entry], words: npt.NDArray[np.int64], shift: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(word, topic, end) of every hit of `entries` (found at `words`); `end` is the first word
    index where the topic may count again: a keyword ending in word `words + shift` ends there."""
    matches = list(map(itemgetter(0), entries))
    sizes = np.fromiter(map(len, matches), dtype=np.int64, count=len(matches))
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(matches)), dtype=np.int64, count=2 * int(sizes.sum()))
    word = np.repeat(words, sizes)
    return word, flat[0::2], word + shift - 1 + flat[1::2]


def _scan(texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(word index, topic number) of every counted keyword match in the joined, folded batch, in
    order, and the index of the first word of each text."""
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != max(len(texts) - 1, 0):
        joined = _SEPARATOR.join(text.replace(_SEPARATOR, _STAND_IN) for text in texts)
    pieces = _SPLIT.split(fold(joined))  # word, separator, word, ...; the first and last may be ""
    words, separators = pieces[0::2], pieces[1::2]
    entries = list(map(_FROM_ROOT.__getitem__, words))
    found = np.fromiter(compress(range(len(words)), entries), dtype=np.int64)
    # A word after a hyphen does not start a word: `segunda-feira` holds no `feira`.
    starts = [not (at and separators[at - 1].endswith("-")) for at in found.tolist()]
    found = found[np.asarray(starts, dtype=np.bool_)]
    kept: list[Entry] = [entries[at] for at in found.tolist()]
    parts = [_flatten(kept, found, 1)]
    # Keywords of several words (`compra pública`, `co-creation`) go on through what follows.
    at, node = found, np.fromiter(map(itemgetter(1), kept), dtype=np.int64, count=len(kept))
    shift = 1
    while True:
        going = node >= 0
        at, node = at[going], node[going]
        if not len(at):
            break
        ahead = (at + shift).tolist()
        steps = list(
            map(
                _step,
                node.tolist(),
                [separators[word - 1] if word - 1 < len(separators) else "" for word in ahead],
                [words[word] if word < len(words) else "" for word in ahead],
            )
        )
        alive = np.fromiter((step is not None for step in steps), dtype=np.bool_, count=len(steps))
        live: list[Entry] = list(compress(steps, alive))  # type: ignore[arg-type]
        at = at[alive]
        parts.append(_flatten(live, at, shift + 1))
        node = np.fromiter(map(itemgetter(1), live), dtype=np.int64, count=len(live))
        shift += 1
    word, topic, end = (np.concatenate(column) for column in zip(*parts, strict=True))
    # The longest keyword of a topic at a word start wins: the one ending last.
    order = np.lexsort((end, topic, word))
    word, topic, end = word[order], topic[order], end[order]
    last = np.ones(len(word), dtype=np.bool_)
    last[:-1] = (word[1:] != word[:-1]) | (topic[1:] != topic[:-1])
    word, topic, end = word[last], topic[last], end[last]
    counted = _not_inside(word, topic, end)
    between = map(contains, separators, repeat(_SEPARATOR))
    first_words = np.flatnonzero(np.fromiter(between, np.bool_, len(separators)))
    return word[counted], topic[counted], _text_starts(separators, first_words)


def _text_starts(separators: list[str], holding: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """For each separator between texts, in order, the index of the first word after it."""
    counts = np.asarray([separators[at].count(_SEPARATOR) for at in holding.tolist()], dtype=np.int64)
    return np.repeat(holding + 1, counts)


def _not_inside(
    word: npt.NDArray[np.int64], topic: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Which matches (sorted by word) count: a topic's match may not start inside its previous
    counted match. Only matches running past their first word can cover another, so the
    sequential check runs only for the topics where one does."""
    counted = np.ones(len(word), dtype=np.bool_)
    long_topics = np.unique(topic[end > word + 1])
    for number in long_topics.tolist():
        mine = np.flatnonzero(topic == number)
        free_from = 0
        for at, start, stop in zip(mine.tolist(), word[mine].tolist(), end[mine].tolist(), strict=True):
            if start < free_from:
                counted[at] = False
            else:
                free_from = stop
    return counted


@dataclass(frozen=True, slots=True)
class Ranked:
    """The topics of each text of a batch, as flat arrays sorted by text, then rank."""

    text: npt.NDArray[np.int64]
    topic: npt.NDArray[np.int64]  # topic number (index in `TOPICS`), or concept number (in `CONCEPTS`)
    rank: npt.NDArray[np.int64]  # 0 = most mentioned, then first mentioned, then by slug


def rank_topics(texts: Sequence[str], *, limit: int = 4) -> Ranked:
    """`detect_topics` of every text in `texts` (e.g. the titles and descriptions of a batch of
    posts), in one scan: the counted topics of each text, ranked, at most `limit` per text."""
    return rank_scanned(texts, limit=limit)[0]


def rank_scanned(texts: Sequence[str], *, limit: int = 4) -> tuple[Ranked, Ranked]:
    """The topics and the concepts (numbers in `CONCEPTS`) of every text in `texts`, each ranked
    as `rank_topics` ranks topics, at most `limit` of each per text, from one scan."""
    position, number, text_starts = _scan(texts)
    text = np.searchsorted(text_starts, position, side="right").astype(np.int64)
    topic = number < len(TOPICS)
    return (
        _ranked(text[topic], number[topic], position[topic], limit),
        _ranked(text[~topic], number[~topic], position[~topic], limit, base=len(TOPICS)),
    )


def _ranked(
    text: npt.NDArray[np.int64],
    number: npt.NDArray[np.int64],
    position: npt.NDArray[np.int64],
    limit: int,
    *,
    base: int = 0,
) -> Ranked:
    """Per text, its numbers (less `base`) most counted first, then first found, then by slug."""
    key = text * len(SCANNED) + number
    pairs, first, counts = np.unique(key, return_index=True, return_counts=True)
    text, number, first = pairs // len(SCANNED), pairs % len(SCANNED), position[first]
    order = np.lexsort((_slug_order()[number], first, -counts, text))
    text, number = text[order], number[order]
    starts = np.searchsorted(text, text, side="left")
    rank = np.arange(len(text), dtype=np.int64) - starts
    kept = rank < limit
    return Ranked(text[kept], number[kept] - base, rank[kept])


@cache
def _slug_order() -> npt.NDArray[np.int64]:
    """Each number's place in slug order (ties between topics go by slug, as in `bot.topics`)."""
    order = np.zeros(len(SCANNED), dtype=np.int64)
    order[sorted(range(len(SCANNED)), key=lambda number: SCANNED[number].slug)] = np.arange(len(SCANNED))
    return order


def detect_parts(parts: Sequence[str], *, limit: int = 4) -> list[list[str]]:
    """`detect_topics` of each text in `parts` (e.g. a title and a description), in one scan."""
    ranked = rank_topics(parts, limit=limit)
    found: list[list[str]] = [[] for _ in parts]
    for text, topic in zip(ranked.text.tolist(), ranked.topic.tolist(), strict=True):
        found[text].append(TOPICS[topic].slug)
    return found


def detect_topics(text: str, *, limit: int = 4) -> list[str]:
    """Topic slugs found in `text`, most mentioned first, then first mentioned (as bot.topics)."""
    return detect_parts([text], limit=limit)[0]
