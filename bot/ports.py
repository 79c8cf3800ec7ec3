"""Neutral value types and the interfaces the kernel needs from the outside world.

Adapters translate platform events into `Incoming` and render `Reply` objects; nothing here knows
about Slack, Telegram or terminals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

# How long one send to a platform may take before it counts as failed (and is retried later): the
# outbox's deadline and the Slack and Telegram HTTP clients' timeouts are this one figure.
SEND_TIMEOUT = timedelta(seconds=60)

Platform = Literal["slack", "telegram", "console"]


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message goes: a channel, group or private chat on one platform."""

    platform: Platform
    workspace: str  # Slack team id, Telegram bot id, "local"
    chat: str  # channel / chat id; for a direct message the platform's DM id or the user id

    def key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.chat}"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote: the platform identity plus what the platform tells us about them."""

    platform: Platform
    workspace: str
    user_id: str
    display_name: str = ""
    username: str | None = None  # a public handle others may write to (Telegram @username)
    organisation: str | None = None  # known only where the platform or an invite says so
    locale: str | None = None  # platform locale, e.g. "es-ES" or "pt-br"
    timezone: str | None = None  # IANA name, e.g. "America/Mexico_City"
    is_platform_admin: bool = False  # Slack admin/owner, Telegram group admin
    member_of: tuple[str, ...] = ()  # registered groups the platform says they are in (`bot.membership`)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person said or pressed. A button press arrives as the button's `value`."""

    sender: Sender
    chat: Address
    text: str
    is_private: bool = True
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    reply_to: str | None = None  # the platform's id of the message this answers (Telegram reply, Slack thread)


@dataclass(frozen=True, slots=True)
class Button:
    """A choice; pressing it is the same as typing `value`, so every platform (and a terminal) works."""

    label: str
    value: str
    selected: bool = False
    style: Literal["default", "primary", "danger"] = "default"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in a reply's text, `text[start:end]`, whom the reader can reach on the same
    platform and workspace (`user_id` there). An adapter whose platform has mentions (Slack) shows
    that span as one; the others show the name as written. Only the kernel places mentions, never
    user text, so text a person typed can never become one."""

    start: int
    end: int
    user_id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Plain text (adapters escape it for their markup) with optional buttons and a file.

    `replaces` names a logical message (e.g. "topics") so adapters that can edit messages update the
    previous one in place instead of piling up new keyboards.
    """

    text: str
    buttons: Sequence[Button] = ()
    attachment: Attachment | None = None
    replaces: str | None = None
    private_link: bool = False  # in a group: "continue in private" instead of a conversation
    mentions: Sequence[Mention] = ()  # people named in `text`, in order, not overlapping


@dataclass(frozen=True, slots=True)
class SentRef:
    """The platform's id of a delivered message (Slack ts, Telegram message_id)."""

    platform: Platform
    chat: str
    message_id: str


class DeliveryError(Exception):
    """A platform refused a message. `retry_after` (seconds) when the platform said when to retry;
    `permanent` when retrying cannot help (blocked bot, unknown chat)."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


# A platform's address of a private chat with several of its people in one workspace (Slack: a
# group DM). Adapters of platforms that have such chats provide theirs; the kernel only asks.
GroupChat = Callable[[str, Sequence[str]], Address]


class Notifier(Protocol):
    """Sends a message to an address on one platform, outside of a conversation turn."""

    platform: Platform

    async def send(self, to: Address, message: Reply) -> SentRef: ...


class Encoder(Protocol):
    """Turns texts into sentence vectors whose cosine says how close their meanings are, across
    languages. `encode` returns one L2-normalised float32 row of `dimension` values per text."""

    dimension: int

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def language_offsets(self) -> npt.NDArray[np.float32]:
        """Per supported language (rows in `SUPPORTED_LANGUAGES` order), what writing in it adds to
        a vector whatever the meaning: the matcher takes it off before comparing posts."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
