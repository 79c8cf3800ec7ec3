"""Per-language text normalisation for matching: words -> folded stems without stop words.

Stop words come from the stopwords-iso lists (package `stopwordsiso`); stems from the Snowball
stemmers (`snowballstemmer` 3.x covers all seven languages, Polish included, in pure Python with no
start-up cost). The generic stop lists are broad: they drop words such as "work", "trabajo" or
"grupo" that matter in our domain, so a stop word is kept when the topic taxonomy uses it as a
keyword. Stems are accent-folded after stemming so `coopérative` and `cooperative` meet.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache

import numpy as np
import numpy.typing as npt
import snowballstemmer
import stopwordsiso

from bot.config import SUPPORTED_LANGUAGES
from bot.language import detect_language
from bot.topics import TOPICS

SNOWBALL_NAMES = {
    "en": "english",
    "es": "spanish",
    "pt": "portuguese",
    "fr": "french",
    "it": "italian",
    "nl": "dutch",
    "pl": "polish",
}
MIN_WORD = 3  # shorter words ("ue", "eu", "de") carry little meaning and much noise
PREFIX = 5  # the cognate key: `financiación`, `financement`, `financing` all start with `finan`
PREFIX_MARK = "~"  # cognate keys are `~finan`, apart from stems
_WORD = re.compile(r"[^\W\d_]+")
Stem = tuple[str, str | None]  # folded stem, cognate key
# Letters NFKD leaves whole; folded so a Polish `ł` typed as `l` still matches.
_UNSPLIT = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d"})


def fold(text: str) -> str:
    """Lowercase, without accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNSPLIT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def resolve_language(text: str, language: str | None) -> str:
    """The post's language when it is one of ours; otherwise a guess from the text (English if unsure)."""
    if language in SUPPORTED_LANGUAGES:
        return language
    return detect_language(text, "en") or "en"


@cache
def _listed(language: str) -> frozenset[str]:
    return frozenset(fold(word) for word in stopwordsiso.stopwords(language))


@cache
def _taxonomy_words() -> frozenset[str]:
    """Folded one-word keywords of the topic taxonomy, and the content words of its longer
    keywords and labels (a `para` inside "formación para el empleo" stays a stop word)."""
    words: set[str] = set()
    for topic in TOPICS:
        phrases = [(code, kw) for code, kws in topic.keywords.items() for kw in kws]
        phrases += list(topic.labels.items())
        for code, phrase in phrases:
            found = [word for word in _WORD.findall(fold(phrase)) if len(word) >= 4]
            single = len(found) == 1
            words.update(word for word in found if single or word not in _listed(code))
    return frozenset(words)


@cache
def stop_words(language: str) -> frozenset[str]:
    """The stopwords-iso list for `language`, folded, minus words the taxonomy treats as keywords
    (taxonomy keywords are prefixes: `trabaj` keeps `trabajo`)."""
    keywords = _taxonomy_words()
    return frozenset(
        word for word in _listed(language) if not any(word[:end] in keywords for end in range(4, len(word) + 1))
    )


class _Known(dict[str, int]):
    """word -> word id for one language; a word seen for the first time is learnt."""

    def __init__(self, normaliser: Normaliser, language: str) -> None:
        super().__init__()
        self._normaliser, self._language = normaliser, language

    def __missing__(self, word: str) -> int:
        return self._normaliser._learn(word, self._language)


class Normaliser:
    """Turns text into stems; one per process. Each word is stemmed once per language and kept
    as a word id with the ids of its stem and cognate key (`terms`: stems, and cognate keys that
    start with `~`): for a known word a dictionary read is the whole cost, so indexing 20,000
    posts stays fast and the term ids of a whole batch come out of two array look-ups."""

    def __init__(self) -> None:
        self._stemmers = {code: snowballstemmer.stemmer(name) for code, name in SNOWBALL_NAMES.items()}
        self._cache: dict[str, dict[str, Stem | None]] = {code: {} for code in SNOWBALL_NAMES}
        self._known = {code: _Known(self, code) for code in SNOWBALL_NAMES}
        self.terms: list[str] = []  # term id -> stem or cognate key
        self._term_ids: dict[str, int] = {}
        # word id -> term id of its stem / of its cognate key, -1 for none (grown by doubling)
        self._stem_of = np.full(1024, -1, dtype=np.int64)
        self._key_of = np.full(1024, -1, dtype=np.int64)
        self._words = 0
        self._lock = threading.RLock()  # Snowball stemmer objects keep state while stemming

    def _stem(self, word: str, language: str) -> Stem | None:
        found: Stem | None = None
        if len(word) >= MIN_WORD and fold(word) not in stop_words(language):
            with self._lock:
                stemmed = fold(self._stemmers[language].stemWord(word))
            if len(stemmed) >= MIN_WORD:
                found = (stemmed, PREFIX_MARK + stemmed[:PREFIX] if len(stemmed) >= PREFIX else None)
        self._cache[language][word] = found
        return found

    def stem(self, word: str, language: str) -> str | None:
        """The folded stem of one lowercase word, or None for a stop word or a too short one."""
        cache = self._cache[language]
        found = cache[word] if word in cache else self._stem(word, language)
        return found[0] if found else None

    @staticmethod
    def split(text: str) -> list[str]:
        """The lowercase words of `text`, in order."""
        return _WORD.findall(text.casefold())

    def words(self, text: str, language: str) -> list[tuple[str, str | None, str]]:
        """(stem, cognate key or None, surface word) for each content word of `text`, in order."""
        cache = self._cache[language]
        found: list[tuple[str, str | None, str]] = []
        for word in self.split(text):
            stem = cache[word] if word in cache else self._stem(word, language)
            if stem is not None:
                found.append((stem[0], stem[1], word))
        return found

    # --- ids, for indexing in bulk ---------------------------------------------------------------

    def _term(self, term: str | None) -> int:
        if term is None:
            return -1
        found = self._term_ids.get(term)
        if found is None:
            found = self._term_ids[term] = len(self.terms)
            self.terms.append(term)
        return found

    def _learn(self, word: str, language: str) -> int:
        with self._lock:  # two indexes may learn words at once
            known = self._known[language]
            if word in known:
                return known[word]
            stem = self._cache[language][word] if word in self._cache[language] else self._stem(word, language)
            number = self._words
            if number == len(self._stem_of):
                self._stem_of = np.concatenate([self._stem_of, np.full_like(self._stem_of, -1)])
                self._key_of = np.concatenate([self._key_of, np.full_like(self._key_of, -1)])
            if stem is not None:
                self._stem_of[number], self._key_of[number] = self._term(stem[0]), self._term(stem[1])
            self._words += 1
            known[word] = number  # last: a word other threads see is complete
            return number

    def word_ids(self, words: Iterable[str], language: str) -> Iterator[int]:
        """The id of each word (in `language`), learning new ones."""
        return map(self._known[language].__getitem__, words)

    def term_ids(self, word_ids: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(stem term id, cognate key term id) of each word id; -1 for a stop word or a short word,
        and for a stem too short to have a cognate key."""
        with self._lock:
            return self._stem_of[word_ids], self._key_of[word_ids]
