"""The offer / need conversation: title, description, topics, then a summary to save, edit or cancel."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date

from bot.i18n import N_
from bot.members import Who
from bot.ports import Button, Reply
from bot.posts import EMPTY, PostDraft, PostError, check_description, check_title, save
from bot.text import clean, shorten
from bot.topics import TOPICS, detect_topics, find_topic, label
from handlers.application.flows import Draft, Flow, Outcome
from handlers.application.suggestions import suggestion_replies
from handlers.application.turn import Turn
from storage.models import DESCRIPTION_MAX, TITLE_MAX, Post, PostFormat, PostKind
from storage.queries import get_or_create_organisation

ORGANISATION_MAX = 200
SUMMARY_DESCRIPTION = 400
FORMAT_KEYS = {
    PostFormat.call: N_("core.format_call"),
    PostFormat.site_visit: N_("core.format_site_visit"),
    PostFormat.document: N_("core.format_document"),
    PostFormat.mentoring: N_("core.format_mentoring"),
    PostFormat.workshop: N_("core.format_workshop"),
}
KIND_KEYS = {PostKind.offer: N_("core.kind_offer"), PostKind.need: N_("core.kind_need")}


def new_draft(who: Who, kind: PostKind, post: Post | None = None) -> Draft:
    draft = PostDraft.from_post(post) if post else PostDraft(kind=kind, format=PostFormat.call)
    return {"post": draft.to_json(), "rejected": None, "back_to_summary": post is not None}


def first_step(who: Who, draft: Draft) -> str:
    if who.member.organisation_id is None:
        return "organisation"
    return "summary" if draft["back_to_summary"] else "title"


def _post(draft: Draft) -> PostDraft:
    return PostDraft.from_json(draft["post"])


def _store(draft: Draft, post: PostDraft) -> None:
    draft["post"] = post.to_json()


def _kind(turn: Turn, draft: Draft) -> str:
    return turn.tr.t(KIND_KEYS[PostKind(draft["post"]["kind"])])


def _is(turn: Turn, text: str, key: str) -> bool:
    return text.strip().lower() in turn.tr.words(key)


# --- prompts -------------------------------------------------------------------------------------


def prompt(turn: Turn, step: str, draft: Draft) -> list[Reply]:
    kind = _kind(turn, draft)
    if step == "organisation":
        return [turn.say("core.ask_organisation")]
    if step == "title":
        key = N_("core.ask_title_offer") if draft["post"]["kind"] == "offer" else N_("core.ask_title_need")
        return [turn.say(key)]
    if step == "description":
        return [turn.say("core.ask_description", kind=kind)]
    if step == "topics":
        return [topics_reply(turn, draft)]
    if step == "format":
        return [format_reply(turn)]
    if step == "until":
        return [turn.say("core.ask_until")]
    return [summary_reply(turn, draft)]


def _topic_line(turn: Turn, number: int, chosen: Collection[str]) -> str:
    topic = TOPICS[number - 1]
    return f"{'✓' if topic.slug in chosen else '·'} {number}. {topic.label(turn.tr.language)}"


def topics_reply(turn: Turn, draft: Draft, changed: Sequence[int] | None = None) -> Reply:
    """The whole numbered list; after a toggle (`changed`: the numbers toggled) only those lines and
    what is chosen, so the list is not reprinted each time. The buttons always hold every topic."""
    chosen = set(draft["post"]["topics"])
    if changed is None:
        numbers = range(1, len(TOPICS) + 1)
        lines = [turn.tr.t("core.ask_topics"), *(_topic_line(turn, n, chosen) for n in numbers)]
    else:
        names = ", ".join(label(slug, turn.tr.language) for slug in draft["post"]["topics"]) or turn.tr.t("core.none")
        hint = turn.tr.t("conversation.topics_changed", topics=names)
        lines = [*(_topic_line(turn, number, chosen) for number in changed), hint]
    buttons = [
        Button(label=topic.label(turn.tr.language), value=str(number), selected=topic.slug in chosen)
        for number, topic in enumerate(TOPICS, start=1)
    ]
    buttons.append(Button(label=turn.tr.t("core.button_done"), value="done", style="primary"))
    return Reply(text="\n".join(lines), buttons=tuple(buttons), replaces="topics")


def format_reply(turn: Turn) -> Reply:
    buttons = [Button(label=turn.tr.t(key), value=f"format {fmt.value}") for fmt, key in FORMAT_KEYS.items()]
    return Reply(text=turn.tr.t("core.ask_format"), buttons=tuple(buttons))


def summary_text(turn: Turn, post: PostDraft) -> str:
    tr = turn.tr
    topics = ", ".join(label(slug, tr.language) for slug in post.topics) or tr.t("core.none")
    until = post.available_until.isoformat() if post.available_until else tr.t("core.no_end_date")
    fmt = tr.t(FORMAT_KEYS[post.format]) if post.format else tr.t("core.none")
    return tr.t(
        "core.summary",
        kind=tr.t(KIND_KEYS[post.kind]),
        title=post.title,
        description=shorten(post.description, SUMMARY_DESCRIPTION),
        topics=topics,
        format=fmt,
        until=until,
    )


def summary_reply(turn: Turn, draft: Draft) -> Reply:
    tr = turn.tr
    buttons = (
        Button(label=tr.t("core.button_save"), value="save", style="primary"),
        Button(label=tr.t("core.button_edit_title"), value="edit title"),
        Button(label=tr.t("core.button_edit_description"), value="edit description"),
        Button(label=tr.t("core.button_edit_topics"), value="edit topics"),
        Button(label=tr.t("core.button_format"), value="format"),
        Button(label=tr.t("core.button_until"), value="until"),
        Button(label=tr.t("core.button_cancel"), value="cancel", style="danger"),
    )
    text = summary_text(turn, _post(draft)) + "\n\n" + tr.t("core.summary_hint")
    return Reply(text=text, buttons=buttons, replaces="summary")


# --- steps ---------------------------------------------------------------------------------------


def _after_text_step(turn: Turn, draft: Draft, natural_next: str) -> Outcome:
    step = "summary" if draft["back_to_summary"] else natural_next
    if step == "topics" and not draft["post"]["topics"]:
        post = _post(draft)
        post.topics = detect_topics(f"{post.title}\n{post.description}", turn.tr.language)
        _store(draft, post)
    return Outcome(step, prompt(turn, step, draft))


def on_organisation(turn: Turn, text: str, draft: Draft) -> Outcome:
    name = " ".join(clean(text).split())
    if not name:
        return Outcome("organisation", [turn.say("core.error_empty_organisation")])
    if len(name) > ORGANISATION_MAX:
        return Outcome("organisation", [turn.say("core.error_organisation_long", limit=ORGANISATION_MAX)])
    organisation = get_or_create_organisation(session=turn.session, community_id=turn.who.community_id, name=name)
    turn.who.member.organisation_id = organisation.id
    turn.session.add(turn.who.member)
    step = first_step(turn.who, draft)
    return Outcome(step, [turn.say("core.organisation_set", organisation=name), *prompt(turn, step, draft)])


def _take_text(turn: Turn, text: str, draft: Draft, field: str, limit: int) -> tuple[str | None, Reply | None]:
    """Check a title or description. A too-long text is kept in the draft, so `trim` can use it."""
    if _is(turn, text, N_("core.word_trim")) and draft.get("rejected"):
        text = shorten(draft["rejected"], limit)
    try:
        value = check_title(text) if field == "title" else check_description(text)
    except PostError as problem:
        if problem.key != EMPTY:
            draft["rejected"] = clean(text)
        return None, Reply(text=turn.tr.t(problem.key, **problem.values))
    draft["rejected"] = None
    return value, None


def _text_step(turn: Turn, text: str, draft: Draft, field: str, limit: int, natural_next: str) -> Outcome:
    value, problem = _take_text(turn, text, draft, field, limit)
    if problem is not None or value is None:
        return Outcome(field, [problem] if problem else [])
    post = _post(draft)
    setattr(post, field, value)
    _store(draft, post)
    return _after_text_step(turn, draft, natural_next)


def on_title(turn: Turn, text: str, draft: Draft) -> Outcome:
    return _text_step(turn, text, draft, "title", TITLE_MAX, "description")


def on_description(turn: Turn, text: str, draft: Draft) -> Outcome:
    return _text_step(turn, text, draft, "description", DESCRIPTION_MAX, "topics")


_SEPARATORS = re.compile(r"[,;\s]+")


def on_topics(turn: Turn, text: str, draft: Draft) -> Outcome:
    if _is(turn, text, N_("core.word_done")):
        return Outcome("summary", [summary_reply(turn, draft)])
    if _is(turn, text, N_("conversation.word_list")):
        return Outcome("topics", [topics_reply(turn, draft)])
    post = _post(draft)
    chosen = list(post.topics)
    unknown, changed = [], []
    for token in _toggles(text):
        topic = TOPICS[int(token) - 1] if token.isdigit() and 1 <= int(token) <= len(TOPICS) else None
        topic = topic or find_topic(token, turn.tr.language)
        if topic is None:
            unknown.append(token)
            continue
        if topic.slug in chosen:
            chosen.remove(topic.slug)
        else:
            chosen.append(topic.slug)
        changed.append(TOPICS.index(topic) + 1)
    post.topics = chosen
    _store(draft, post)
    replies = [turn.say("core.error_unknown_topic", text=", ".join(unknown))] if unknown else []
    return Outcome("topics", [*replies, topics_reply(turn, draft, list(dict.fromkeys(changed)) or None)])


def _toggles(text: str) -> list[str]:
    """`3 5`, `3,5` toggle numbers; anything else is one topic name (labels contain spaces)."""
    parts = [part for part in _SEPARATORS.split(text.strip()) if part]
    if parts and all(part.isdigit() for part in parts):
        return parts
    return [part.strip() for part in re.split(r"[,;]", text) if part.strip()]


_SUMMARY_WORDS = (
    N_("core.word_save"),
    N_("core.word_cancel"),
    N_("core.word_edit"),
    N_("core.word_format"),
    N_("core.word_until"),
)


def on_summary(turn: Turn, text: str, draft: Draft) -> Outcome:
    word, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    if _is(turn, word, N_("core.word_save")):
        return _save(turn, draft)
    if _is(turn, word, N_("core.word_cancel")):
        return Outcome(None, [turn.say("core.cancelled")])
    if _is(turn, word, N_("core.word_edit")):
        return _edit(turn, rest, draft)
    if _is(turn, word, N_("core.word_format")):
        return on_format(turn, rest, draft) if rest else Outcome("format", [format_reply(turn)])
    if _is(turn, word, N_("core.word_until")):
        return on_until(turn, rest, draft) if rest else Outcome("until", [turn.say("core.ask_until")])
    return Outcome("summary", [turn.say("core.error_summary_choice"), summary_reply(turn, draft)])


_EDITABLE = {
    "title": N_("core.word_title"),
    "description": N_("core.word_description"),
    "topics": N_("core.word_topics"),
}


def _edit(turn: Turn, field: str, draft: Draft) -> Outcome:
    for step, key in _EDITABLE.items():
        if _is(turn, field, key):
            draft["back_to_summary"] = True
            return Outcome(step, prompt(turn, step, draft))
    return Outcome("summary", [turn.say("core.ask_edit_which"), summary_reply(turn, draft)])


_FORMAT_WORDS = {
    PostFormat.call: N_("core.word_format_call"),
    PostFormat.site_visit: N_("core.word_format_site_visit"),
    PostFormat.document: N_("core.word_format_document"),
    PostFormat.mentoring: N_("core.word_format_mentoring"),
    PostFormat.workshop: N_("core.word_format_workshop"),
}


def _strip_word(turn: Turn, text: str, key: str) -> str:
    """`until 2027-01-31` typed at the `until` step means `2027-01-31`."""
    word, _, rest = text.strip().partition(" ")
    return rest.strip() if rest and _is(turn, word, key) else text.strip()


def _summary_word(turn: Turn, text: str) -> bool:
    word = text.strip().partition(" ")[0]
    return any(_is(turn, word, key) for key in _SUMMARY_WORDS)


def on_format(turn: Turn, text: str, draft: Draft) -> Outcome:
    choice = _strip_word(turn, text, N_("core.word_format")).lower()
    for fmt in PostFormat:
        if choice == fmt.value or _is(turn, choice, _FORMAT_WORDS[fmt]):
            post = _post(draft)
            post.format = fmt
            _store(draft, post)
            return Outcome("summary", [summary_reply(turn, draft)])
    if _summary_word(turn, text):
        return on_summary(turn, text, draft)
    return Outcome("format", [turn.say("core.error_format"), format_reply(turn)])


def on_until(turn: Turn, text: str, draft: Draft) -> Outcome:
    choice = _strip_word(turn, text, N_("core.word_until"))
    post = _post(draft)
    if _is(turn, choice, N_("core.word_none")):
        post.available_until = None
    else:
        try:
            until = date.fromisoformat(choice)
        except ValueError:
            if _summary_word(turn, text):
                return on_summary(turn, text, draft)
            return Outcome("until", [turn.say("core.error_date", text=shorten(choice, 40))])
        today = turn.deps.clock.now().astimezone(turn.who.timezone).date()
        if until < today:
            return Outcome("until", [turn.say("core.error_date_past", date=until.isoformat())])
        post.available_until = until
    _store(draft, post)
    return Outcome("summary", [summary_reply(turn, draft)])


def _save(turn: Turn, draft: Draft) -> Outcome:
    post_draft = _post(draft)
    try:
        post = save(turn.session, turn.who, post_draft, language=turn.tr.language)
    except PostError as problem:
        return Outcome("summary", [Reply(text=turn.tr.t(problem.key, **problem.values))])
    return Outcome(None, saved_replies(turn, post, updated=post_draft.post_id is not None))


def saved_replies(turn: Turn, post: Post, *, updated: bool = False) -> list[Reply]:
    """The confirmation of a saved post with its instant matches (conversation and Slack modal alike)."""
    key = N_("core.updated") if updated else N_("core.saved")
    saved = turn.say(key, kind=turn.tr.t(KIND_KEYS[post.kind]), number=post.id, title=post.title)
    return [saved, *suggestion_replies(turn, post)]


def on_resume(turn: Turn, text: str, draft: Draft) -> Outcome:
    """Asked when a parked draft exists: continue it, or start over."""
    if _is(turn, text, N_("core.word_continue")):
        return _resume(turn, draft)
    if _is(turn, text, N_("core.word_new")):
        fresh = new_draft(turn.who, PostKind(draft["kind"]))
        draft.clear()
        draft.update(fresh)
        step = first_step(turn.who, draft)
        return Outcome(step, prompt(turn, step, draft))
    return Outcome("resume", [resume_reply(turn, draft)])


def _resume(turn: Turn, draft: Draft) -> Outcome:
    parked = draft["parked"]
    draft.clear()
    draft.update(parked["draft"])
    step = parked["step"]
    return Outcome(step, prompt(turn, step, draft))


def resume_reply(turn: Turn, draft: Draft) -> Reply:
    title = draft["parked"]["draft"]["post"].get("title") or turn.tr.t("core.untitled")
    return Reply(
        text=turn.tr.t("core.ask_resume", kind=turn.tr.t(KIND_KEYS[PostKind(draft["kind"])]), title=title),
        buttons=(
            Button(label=turn.tr.t("core.button_continue"), value="continue", style="primary"),
            Button(label=turn.tr.t("core.button_start_over"), value="new"),
        ),
    )


def _prompt_any(turn: Turn, step: str, draft: Draft) -> list[Reply]:
    return [resume_reply(turn, draft)] if step == "resume" else prompt(turn, step, draft)


def draft_title(draft: Draft) -> str:
    if "parked" in draft:
        return str(draft["parked"]["draft"]["post"].get("title", ""))
    return str(draft.get("post", {}).get("title", ""))


STEPS = {
    "resume": on_resume,
    "organisation": on_organisation,
    "title": on_title,
    "description": on_description,
    "topics": on_topics,
    "summary": on_summary,
    "format": on_format,
    "until": on_until,
}

OFFER = Flow(name="offer", steps=STEPS, prompt=_prompt_any, title=draft_title)
NEED = Flow(name="need", steps=STEPS, prompt=_prompt_any, title=draft_title)
