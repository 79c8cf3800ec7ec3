"""What a round gives, as sha256 digests: speed work must leave them unchanged (run on demand):

    .venv/bin/python tests/benchmarks/round_fingerprint.py DB

DB is a round database (e.g. the one bench_matching.py imports); it is copied, never written. In
one fresh process: a cold round (top 3), then a tight one (top 2, capacity 1, minimum 0.3, which
leaves needs unmatched for every reason), then instant suggestions for every 997th post. Each is
digested sorted by post refs: pairs with their score (6 places) and reasons (stored form and two
languages), the posts' columns, the unmatched needs with their reason and explanation, and the
order of the suggestions. Compare the JSON printed before and after a change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlmodel import col, select  # noqa: E402

from bot.matching import Matcher, RoundResult, Suggestion  # noqa: E402
from storage.db import make_engine, session_factory  # noqa: E402
from storage.models import Post  # noqa: E402
from storage.queries import default_community  # noqa: E402

SAMPLE_EVERY = 997  # posts whose instant suggestions are digested


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()


def _columns(post: Post) -> tuple[Any, ...]:
    return (
        post.id, post.ref, str(post.kind), post.title, post.description, tuple(post.topics), post.language,
        str(post.status), str(post.format), str(post.available_until), post.contact, post.city, post.country,
        post.created_at.isoformat(), post.updated_at.isoformat(), post.organisation_id, post.member_id,
        post.community_id,
    )  # fmt: skip


def _pair(s: Suggestion) -> tuple[Any, ...]:
    return (
        s.need.ref, s.offer.ref, f"{s.score:.6f}", s.shared_topics, s.key_terms, s.similar_purpose,
        s.stored_reasons(), s.reasons("en"), s.reasons("es"),
    )  # fmt: skip


def _round(result: RoundResult) -> dict[str, Any]:
    pairs = sorted(_pair(s) for s in result.suggestions)
    unmatched = sorted(
        (u.need.ref, str(u.reason), f"{u.best_score:.6f}", result.explain(u, "en")) for u in result.unmatched
    )
    posts = sorted(_columns(post) for s in result.suggestions for post in (s.need, s.offer))
    return {
        "suggestions": len(pairs),
        "unmatched": len(unmatched),
        "pairs": _digest(pairs),
        "unmatched_needs": _digest(unmatched),
        "order": _digest([(s.need.ref, s.offer.ref) for s in result.suggestions]),
        "posts": _digest(posts),
    }


def fingerprint(db: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "round.db"
        shutil.copy(db, copy)
        engine = make_engine(f"sqlite:///{copy}")
        with session_factory(engine)() as session:
            community_id = default_community(session=session).id
            assert community_id is not None
            matcher = Matcher()
            cold = _round(matcher.run_round(session, community_id, top_k=3))
            tight = _round(matcher.run_round(session, community_id, top_k=2, capacity=1, min_score=0.3))
            sample = session.exec(select(Post).where(col(Post.id) % SAMPLE_EVERY == 0).order_by(col(Post.id))).all()
            instant = [(post.ref, [_pair(s) for s in matcher.suggest(session, post)]) for post in sample]
        engine.dispose()
    return {"cold": cold, "tight": tight, "instant": {"posts": len(instant), "digest": _digest(instant)}}


if __name__ == "__main__":
    print(json.dumps(fingerprint(Path(sys.argv[1])), indent=1))
