"""The offer / need modal was submitted: field errors go back into the modal at once; a valid
post is saved, confirmed in a private message with its instant matches, and the App Home redrawn."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.i18n import translator
from bot.members import resolve
from bot.ports import Address, Incoming, Reply, Sender
from bot.posts import PostDraft, PostError, save
from handlers.application.flows.post import saved_replies
from handlers.application.turn import Turn
from handlers.slack.app_home import refresh
from handlers.slack.dedupe import new_request
from handlers.slack.modals import CALLBACK, Submission, read_submission
from handlers.slack.people import Directory, chat_address
from handlers.slack.send import post_all
from storage.db import transaction


def save_submission(deps: Deps, sender: Sender, chat: Address, submission: Submission) -> list[Reply]:
    """Store the post (the sender carries the organisation typed in the modal, if it asked)."""
    with transaction(deps.sessions) as session:
        who = resolve(session, sender)
        tr = translator(who.language)
        draft = PostDraft(
            kind=submission.kind,
            title=submission.title,
            description=submission.description,
            topics=submission.topics,
            format=submission.format,
        )
        try:
            post = save(session, who, draft, language=tr.language, encoder=deps.encoder)
        except PostError as problem:
            return [Reply(text=tr.t(problem.key, **problem.values))]
        turn = Turn(deps, session, Incoming(sender=sender, chat=chat, text=""), who, tr)
        return saved_replies(turn, post)


async def on_post_submission(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    submission = read_submission(view)
    if submission.errors:
        await ack(response_action="errors", errors=submission.errors)
        return
    await ack()  # closes the modal; saving happens after
    team, user = str(body["team"]["id"]), str(body["user"]["id"])
    asker = await new_request(context, client, body, team, user)
    if asker is None:
        return
    deps: Deps = context["deps"]
    directory: Directory = context["directory"]
    sender = replace(asker, organisation=submission.organisation)
    channel = await directory.dm_channel(client, team, user)
    replies = await asyncio.to_thread(save_submission, deps, sender, chat_address(team, channel), submission)
    await post_all(client, channel, replies)
    await refresh(client, deps, sender)


def register(app: AsyncApp) -> None:
    app.view_submission(CALLBACK)(on_post_submission)
