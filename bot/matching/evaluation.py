"""Measuring match quality on a labelled set: recall@k, MRR, and rule violations.

A set is JSON: `{"items": [{"ref", "kind": "offer"|"need", "organization", "language", "title",
"description", optional "topics", optional "gold": [offer refs], optional "forbidden": [offer refs]}],
optional "gold": {need ref: [offer refs]}, optional "forbidden": {need ref: [offer refs]}}`. An item
without `language` is stored with none, so the matcher detects it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.matching.matcher import Matcher
from bot.organisations import organisation_named
from storage.models import Post, PostKind


@dataclass(frozen=True, slots=True)
class LabelledSet:
    items: list[dict[str, Any]]
    gold: dict[str, list[str]]
    forbidden: dict[str, list[str]]

    @classmethod
    def read(cls, path: Path) -> LabelledSet:
        data = json.loads(path.read_text(encoding="utf-8"))
        gold = {ref: list(refs) for ref, refs in data.get("gold", {}).items()}
        forbidden = {ref: list(refs) for ref, refs in data.get("forbidden", {}).items()}
        for item in data["items"]:
            if item.get("gold"):
                gold.setdefault(item["ref"], []).extend(item["gold"])
            if item.get("forbidden"):
                forbidden.setdefault(item["ref"], []).extend(item["forbidden"])
        return cls(list(data["items"]), gold, forbidden)


@dataclass
class NeedResult:
    ref: str
    ranked: list[str]  # offer refs, best first (every offer above the minimum score)
    gold: list[str]
    recall: float
    reciprocal_rank: float


@dataclass
class Report:
    k: int
    needs: list[NeedResult] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # same-organisation or forbidden pairs suggested
    round_recall: float = 0.0  # recall@k of one round with the default capacity and threshold

    @property
    def recall(self) -> float:
        """Mean over needs of |gold in top k| / min(|gold|, k)."""
        return sum(need.recall for need in self.needs) / max(len(self.needs), 1)

    @property
    def hits(self) -> float:
        """Share of needs with at least one gold offer in the top k."""
        return sum(need.recall > 0 for need in self.needs) / max(len(self.needs), 1)

    @property
    def mrr(self) -> float:
        return sum(need.reciprocal_rank for need in self.needs) / max(len(self.needs), 1)

    def misses(self) -> list[NeedResult]:
        return [need for need in self.needs if need.recall < 1]


def load(session: Session, community_id: int, labelled: LabelledSet) -> dict[str, Post]:
    """Create the set's organisations and posts in the community; posts by ref."""
    posts: dict[str, Post] = {}
    for item in labelled.items:
        organisation = organisation_named(session, community_id=community_id, name=item["organization"])
        assert organisation.id is not None
        post = Post(
            community_id=community_id,
            organisation_id=organisation.id,
            ref=item["ref"],
            kind=PostKind(item["kind"]),
            title=item["title"],
            description=item.get("description", ""),
            topics=list(item.get("topics", [])),
            language=item.get("language") or "",
        )
        session.add(post)
        posts[item["ref"]] = post
    session.flush()
    return posts


def evaluate(
    session: Session, matcher: Matcher, posts: dict[str, Post], labelled: LabelledSet, *, k: int = 3
) -> Report:
    """Rank every offer for every labelled need with the live matcher, and run one round to check
    the rules on its output."""
    report = Report(k)
    by_id = {post.id: ref for ref, post in posts.items()}
    offers = sum(post.kind == PostKind.offer for post in posts.values())
    for ref, gold in labelled.gold.items():
        ranked = [by_id[s.offer.id] for s in matcher.suggest(session, posts[ref], k=offers)]
        found = [at for at, offer in enumerate(ranked) if offer in gold]
        recall = len([at for at in found if at < k]) / min(len(gold), k)
        report.needs.append(NeedResult(ref, ranked, gold, recall, 1.0 / (found[0] + 1) if found else 0.0))
        report.violations.extend(
            f"{ref} -> {offer} (forbidden)" for offer in ranked[:k] if offer in labelled.forbidden.get(ref, [])
        )
    community_id = next(iter(posts.values())).community_id
    suggested: dict[str, list[str]] = {}
    for suggestion in matcher.run_round(session, community_id, top_k=k).suggestions:
        need, offer = by_id[suggestion.need.id], by_id[suggestion.offer.id]
        suggested.setdefault(need, []).append(offer)
        if suggestion.need.organisation_id == suggestion.offer.organisation_id:
            report.violations.append(f"{need} -> {offer} (same organisation, round)")
        if offer in labelled.forbidden.get(need, []):
            report.violations.append(f"{need} -> {offer} (forbidden, round)")
    recalls = [len(set(suggested.get(ref, [])) & set(gold)) / min(len(gold), k) for ref, gold in labelled.gold.items()]
    report.round_recall = sum(recalls) / max(len(recalls), 1)
    return report
