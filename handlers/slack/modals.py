"""The offer / need modal: its Block Kit, and reading and checking what was submitted.

The text typed after `/offer` pre-fills the title and pre-selects the topics it mentions; the
organisation field appears only for members who have none yet (posts belong to organisations).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.errors import UserError
from bot.i18n import N_, Translator, translator
from bot.organisations import ORGANISATION_MAX, check_name
from bot.posts import PostDraft, check_description, check_title
from bot.topics import TOPICS, detect_topics
from handlers.application.flows.post import FORMAT_KEYS
from storage.models import DESCRIPTION_MAX, TITLE_MAX, PostFormat, PostKind

CALLBACK = "post_modal"
OPTION_TEXT_MAX = 75
TITLE_KEYS = {PostKind.offer: N_("slack.modal_title_offer"), PostKind.need: N_("slack.modal_title_need")}


@dataclass(frozen=True, slots=True)
class Submission:
    draft: PostDraft
    organisation: str | None  # typed in the modal (asked only of members without one)
    errors: dict[str, str] = field(default_factory=dict)  # block id -> message, shown on the field


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text[:OPTION_TEXT_MAX]}, "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"action_id": "value", **element},
    }


def _text_input(placeholder: str, limit: int, *, initial: str = "", multiline: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": limit,
        "placeholder": {"type": "plain_text", "text": placeholder},
    }
    if initial:
        element["initial_value"] = initial
    return element


def _topics_input(tr: Translator, chosen: list[str]) -> dict[str, Any]:
    options = [_option(topic.label(tr.language), topic.slug) for topic in TOPICS]
    element: dict[str, Any] = {"type": "multi_static_select", "options": options}
    if chosen:
        element["initial_options"] = [option for option in options if option["value"] in chosen]
    return element


def _format_input(tr: Translator) -> dict[str, Any]:
    options = [_option(tr.t(key), fmt.value) for fmt, key in FORMAT_KEYS.items()]
    return {"type": "static_select", "options": options, "initial_option": options[0]}


def post_modal(kind: PostKind, tr: Translator, *, text: str, ask_organisation: bool) -> dict[str, Any]:
    """The modal for `/offer` or `/need`; `text` is what was typed after the command."""
    title = text if len(text) <= TITLE_MAX else ""
    blocks: list[dict[str, Any]] = []
    if ask_organisation:
        hint = tr.t("slack.modal_organisation_hint")
        blocks.append(_input("organisation", tr.t("slack.modal_organisation"), _text_input(hint, ORGANISATION_MAX)))
    blocks += [
        _input(
            "title",
            tr.t("slack.modal_field_title"),
            _text_input(tr.t("slack.modal_title_hint"), TITLE_MAX, initial=title),
        ),
        _input(
            "description",
            tr.t("slack.modal_field_description"),
            _text_input(tr.t("slack.modal_description_hint"), DESCRIPTION_MAX, multiline=True),
        ),
        _input(
            "topics",
            tr.t("slack.modal_field_topics"),
            _topics_input(tr, detect_topics(text, tr.language)),
            optional=True,
        ),
        _input("format", tr.t("slack.modal_field_format"), _format_input(tr)),
    ]
    metadata = {"kind": kind.value, "lang": tr.language}
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": tr.t(TITLE_KEYS[kind])},
        "submit": {"type": "plain_text", "text": tr.t("slack.modal_submit")},
        "close": {"type": "plain_text", "text": tr.t("slack.modal_close")},
        "blocks": blocks,
    }


def _value(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    return dict((values.get(block_id) or {}).get("value") or {})


def read_submission(view: dict[str, Any]) -> Submission:
    """What the person submitted, checked with the same rules as the conversation."""
    metadata = json.loads(view.get("private_metadata") or "{}")
    tr = translator(str(metadata.get("lang", "en")))
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}

    def checked(block_id: str, check: Callable[[str], str]) -> str:
        raw = str(_value(values, block_id).get("value") or "")
        try:
            return check(raw)
        except UserError as problem:
            errors[block_id] = tr.t(problem.key, **problem.values)
            return raw

    title = checked("title", check_title)
    description = checked("description", check_description)
    organisation = checked("organisation", check_name) if "organisation" in values else None
    chosen = _value(values, "topics").get("selected_options") or []
    picked = (_value(values, "format").get("selected_option") or {}).get("value")
    draft = PostDraft(
        kind=PostKind(metadata.get("kind", "offer")),
        title=title,
        description=description,
        topics=[str(option["value"]) for option in chosen],
        format=PostFormat(str(picked)) if picked in PostFormat.__members__ else None,
    )
    return Submission(draft=draft, organisation=organisation, errors=errors)
