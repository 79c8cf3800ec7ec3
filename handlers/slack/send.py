"""Putting rendered replies on Slack: a message in a channel or private chat, an ephemeral answer
through a command's `respond`, files with files_upload_v2."""

from __future__ import annotations

from collections.abc import Sequence

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import Reply
from handlers.slack import blocks
from handlers.slack.mrkdwn import escape

Link = tuple[str, str] | None
ALT_TEXT_MAX = 1000  # files.getUploadURLExternal's limit for alt_txt


async def upload(client: AsyncWebClient, channel: str, reply: Reply) -> str:
    """A file (CSV export, .ics, a map) with the reply's text as its comment; returns the file id.
    An image also gets the text as its alt text, for screen readers."""
    assert reply.attachment is not None
    image = reply.attachment.mime_type.startswith("image/")
    response = await client.files_upload_v2(
        channel=channel,
        content=reply.attachment.content,
        filename=reply.attachment.filename,
        title=reply.attachment.filename,
        alt_txt=reply.text[:ALT_TEXT_MAX] if image and reply.text else None,
        initial_comment=escape(reply.text) if reply.text else None,
    )
    return str((response.get("file") or {}).get("id", ""))


async def post(client: AsyncWebClient, channel: str, reply: Reply, *, link: Link = None) -> str:
    """Post one reply where `channel` (a channel, private chat or user id) says; returns its ts."""
    if reply.attachment is not None:
        return await upload(client, channel, reply)
    response = await client.chat_postMessage(channel=channel, **blocks.message(reply, link=link))
    return str(response.get("ts", ""))


async def post_all(client: AsyncWebClient, channel: str, replies: Sequence[Reply], *, link: Link = None) -> None:
    for reply in replies:
        await post(client, channel, reply, link=link)


async def post_ephemeral_all(client: AsyncWebClient, channel: str, user: str, replies: Sequence[Reply]) -> None:
    """Answers only `user` sees, in a channel (no `respond` URL exists after a modal)."""
    for reply in replies:
        await client.chat_postEphemeral(channel=channel, user=user, **blocks.message(reply))


async def update(client: AsyncWebClient, channel: str, ts: str, reply: Reply) -> None:
    """Edit a message in place (a keyboard whose choices changed)."""
    await client.chat_update(channel=channel, ts=ts, **blocks.message(reply))


async def respond_all(
    respond: AsyncRespond,
    replies: Sequence[Reply],
    *,
    files: tuple[AsyncWebClient, str] | None = None,
    link: Link = None,
    replace: str | None = None,
) -> None:
    """Answer only the person who asked (ephemeral). Files cannot travel that way, so they go to
    `files` = (client, private chat id). A reply whose `replaces` equals `replace` edits the message
    that was pressed instead of adding a new one."""
    for reply in replies:
        if reply.attachment is not None and files is not None:
            await upload(files[0], files[1], reply)
            continue
        in_place = replace is not None and reply.replaces == replace
        await respond(response_type="ephemeral", replace_original=in_place, **blocks.message(reply, link=link))
