"""Rounds and group proposals as JSON, CSV or a readable table (for `peerlink match` / `groups`).

`peerlink match --format json` prints on stdout exactly the list of
`{"need": ref, "offer": ref, "score": float, "reasons": [...]}`; the needs left without a
suggestion go to stderr as one JSON object `{"unmatched": [{"need", "reason", "best_score",
"explanation"}]}` (CSV: a second table on stderr), so the list keeps its shape and nobody is
silently dropped. The text format shows both on stdout.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bot.groups import GroupProposal
from bot.i18n import Translator, translator
from bot.matching.matcher import RoundResult
from bot.text import shorten

REASON_SEPARATOR = " | "
_POST_WIDTH = 34


def round_rows(result: RoundResult, language: str) -> list[dict[str, Any]]:
    return [
        {"need": s.need.ref, "offer": s.offer.ref, "score": s.score, "reasons": s.reasons(language)}
        for s in result.suggestions
    ]


def unmatched_rows(result: RoundResult, language: str) -> list[dict[str, Any]]:
    return [
        {
            "need": u.need.ref,
            "reason": u.reason.value,
            "best_score": u.best_score,
            "explanation": result.explain(u, language),
        }
        for u in result.unmatched
    ]


def round_json(result: RoundResult, language: str) -> tuple[str, str]:
    """(stdout, stderr)."""
    out = json.dumps(round_rows(result, language), ensure_ascii=False, indent=2)
    err = json.dumps({"unmatched": unmatched_rows(result, language)}, ensure_ascii=False)
    return out, err


def round_csv(result: RoundResult, language: str) -> tuple[str, str]:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["need", "offer", "score", "reasons"])
    for row in round_rows(result, language):
        writer.writerow([row["need"], row["offer"], f"{row['score']:.4f}", REASON_SEPARATOR.join(row["reasons"])])
    err = io.StringIO(newline="")
    writer = csv.writer(err)
    writer.writerow(["need", "reason", "best_score", "explanation"])
    for item in unmatched_rows(result, language):
        writer.writerow([item["need"], item["reason"], f"{item['best_score']:.4f}", item["explanation"]])
    return out.getvalue(), err.getvalue()


def _post(ref: str, title: str) -> str:
    return shorten(f"{ref} {title}", _POST_WIDTH).ljust(_POST_WIDTH)


def round_counts(tr: Translator, result: RoundResult) -> dict[str, str]:
    """ "5 suggestions" and "for 3 needs", each in its own plural form, for a round's summary line."""
    return {
        "suggestions": tr.n("matching.round_suggestions", len(result.suggestions)),
        "for_needs": tr.n("matching.round_for_needs", len(result.by_need())),
    }


def round_text(result: RoundResult, language: str) -> str:
    tr = translator(language)
    lines = [
        tr.t("matching.round_summary", **round_counts(tr, result)),
        "",
        f"{tr.t('matching.column_need'):<{_POST_WIDTH}}  {tr.t('matching.column_offer'):<{_POST_WIDTH}}  "
        f"{tr.t('matching.column_score'):>5}  {tr.t('matching.column_reasons')}",
    ]
    for s in result.suggestions:
        need, offer, reasons = (
            _post(s.need.ref, s.need.title),
            _post(s.offer.ref, s.offer.title),
            s.reasons(language),
        )
        lines.append(f"{need}  {offer}  {s.score:5.2f}  {'; '.join(reasons)}")
    if result.unmatched:
        lines += ["", tr.t("matching.unmatched_heading", count=len(result.unmatched))]
        lines += [f"{_post(u.need.ref, u.need.title)}  {result.explain(u, language)}" for u in result.unmatched]
    return "\n".join(lines)


def groups_json(proposal: GroupProposal, language: str) -> str:
    data = {
        "groups": [
            {
                "name": group.name(language),
                "topic": group.topic,
                "members": [member.name for member in group.members],
                "reasons": group.reasons(language),
            }
            for group in proposal.groups
        ],
        "left_out": [
            {
                "organisation": item.member.name,
                "reason": item.reason.value,
                "explanation": item.explain(language, min_size=proposal.min_size),
            }
            for item in proposal.left_out
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def groups_text(proposal: GroupProposal, language: str) -> str:
    tr = translator(language)
    lines = [] if proposal.groups else [tr.t("matching.groups_none", count=proposal.min_size)]
    for number, group in enumerate(proposal.groups, start=1):
        lines.append(tr.t("matching.group_heading", number=number, name=group.name(language)))
        lines.append("  " + tr.t("matching.group_members", members=", ".join(m.name for m in group.members)))
        lines.extend(f"  - {reason}" for reason in group.reasons(language))
        lines.append("")
    if proposal.left_out:
        lines.append(tr.t("matching.groups_left_out_heading", count=len(proposal.left_out)))
        lines.extend(
            f"  {item.member.name}: {item.explain(language, min_size=proposal.min_size)}" for item in proposal.left_out
        )
    return "\n".join(lines).rstrip()
