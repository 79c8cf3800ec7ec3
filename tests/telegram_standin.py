"""A stand-in for the Telegram Bot API on 127.0.0.1: the methods the adapter uses, over real HTTP.

It serves queued updates to getUpdates (long polling), records every call with its parameters
(form-encoded, multipart or JSON, as PTB sends them), and can be told to fail the next call of a
method with 429 (`parameters.retry_after`) or 403, as Telegram does.

Waiting for the bot's answer (see tests/README.md): take `mark()` before you act, then
`wait_for_message(chat, expect, since=mark)` for the message you mean, by its content; `say()` does
both. Never take "the next message" or `sent()[-1]` as the answer: a late reply to an earlier step
may come first.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bot.config import Settings
from tests import waiting

BOT_ID = 5550001
BOT_USERNAME = "PeerlinkTestBot"
TOKEN = f"{BOT_ID}:TEST-token_secret"

JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "scope"}
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


# The message you mean: a piece of its text (as sent, HTML-escaped), or a test on the call.
Expect = str | Callable[[Call], bool]


def _matches(call: Call, expect: Expect) -> bool:
    return expect in str(call.params.get("text", "")) if isinstance(expect, str) else expect(call)


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    chat_id: str | None = None  # only calls for this chat fail


@dataclass
class State:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)  # (chat, user) -> status
    lock: threading.Condition = field(default_factory=threading.Condition)
    holds: dict[str, threading.Event] = field(default_factory=dict)  # methods answered once released


def _user(user_id: int, name: str = "Ana", language: str | None = "en", *, bot: bool = False) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": bot, "first_name": name}
    if language:
        user["language_code"] = language
    return user


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ana"}
    return {"id": chat_id, "type": "supergroup", "title": "Partnership group"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A long poll the client gave up on (the bot stopped) is normal, not an error.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class StandIn:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.state = State()
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def start(self) -> StandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        for method in list(self.state.holds):
            self.release(method)
        with self.state.lock:
            self.state.lock.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # --- what a test says and sees --------------------------------------------------------------

    def message(
        self,
        text: str,
        *,
        user: int = 42,
        chat: int | None = None,
        name: str = "Ana",
        language: str | None = "en",
        reply_to: int | None = None,
        username: str | None = None,
    ) -> None:
        """Someone writes `text` (private chat with `user` unless `chat` is a group id), as a reply
        to the bot's message `reply_to` when given."""
        update = self.message_update(text, user=user, chat=chat, name=name, language=language, username=username)
        if reply_to is not None:
            chat_id = chat if chat is not None else user
            update["message"]["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": _chat(chat_id),
                "from": _user(BOT_ID, "Peerlink", None, bot=True),
                "text": "…",
            }
        self._push(update)

    def message_update(
        self,
        text: str,
        *,
        user: int = 42,
        chat: int | None = None,
        name: str = "Ana",
        language: str | None = "en",
        username: str | None = None,
    ) -> dict[str, Any]:
        """The update Telegram would deliver (by getUpdates, or POSTed to a webhook)."""
        chat_id = chat if chat is not None else user
        sender = _user(user, name, language)
        if username:
            sender["username"] = username
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": sender,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(" ", 1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._ids), "message": message}

    def press(
        self,
        data: str,
        *,
        message_id: int,
        user: int = 42,
        chat: int | None = None,
        language: str | None = "en",
        name: str = "Ana",
        username: str | None = None,
    ) -> None:
        """Someone presses a button whose callback_data is `data` on the bot's message `message_id`
        (Telegram says who pressed as it says who wrote: name, language and public @username)."""
        chat_id = chat if chat is not None else user
        carrier = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": _user(BOT_ID, "Peerlink", None, bot=True),
            "text": "…",
        }
        presser = _user(user, name, language)
        if username:
            presser["username"] = username
        query = {
            "id": str(next(self._ids)),
            "from": presser,
            "chat_instance": f"ci{chat_id}",
            "message": carrier,
            "data": data,
        }
        self._push({"callback_query": query})

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        chat_id: str | int | None = None,
    ) -> None:
        with self.state.lock:
            failure = Failure(status, description, retry_after, None if chat_id is None else str(chat_id))
            self.state.failures.setdefault(method, []).append(failure)

    def hold(self, method: str) -> None:
        """Calls to `method` are recorded, then answered only once `release(method)` is called."""
        with self.state.lock:
            self.state.holds[method] = threading.Event()

    def release(self, method: str) -> None:
        with self.state.lock:
            held = self.state.holds.pop(method, None)
        if held is not None:
            held.set()

    def set_status(self, chat: int, user: int, status: str) -> None:
        self.state.statuses[(str(chat), str(user))] = status

    def calls(self, method: str | None = None) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def sent(self, chat: int | None = None) -> list[Call]:
        """sendMessage calls that succeeded (answered 200), optionally in one chat."""
        return self.sent_since(0, chat)

    def mark(self) -> int:
        """A position in the log of calls: what happens from now on is after it."""
        with self.state.lock:
            return len(self.state.calls)

    def sent_since(self, since: int, chat: int | None = None) -> list[Call]:
        """sendMessage calls after position `since` that succeeded, optionally in one chat."""
        with self.state.lock:
            later = self.state.calls[since:]
        return [
            c
            for c in later
            if c.method == "sendMessage"
            and c.params.get("_ok")
            and (chat is None or str(c.params.get("chat_id")) == str(chat))
        ]

    async def wait_for(self, predicate: Callable[[Call], bool], *, since: int = 0, what: str = "a call") -> Call:
        """The first call after position `since` for which `predicate` holds, once it has come."""
        found: list[Call] = []

        def arrived() -> bool:
            with self.state.lock:
                later = self.state.calls[since:]
            found[:] = [call for call in later if predicate(call)][:1]
            return bool(found)

        await until(arrived, what=what, standin=self)
        return found[0]

    async def wait_for_message(self, chat: int, expect: Expect, *, since: int = 0) -> Call:
        """The first message the bot sent to `chat` after position `since` that is the one you mean."""

        def meant(call: Call) -> bool:
            return (
                call.method == "sendMessage"
                and bool(call.params.get("_ok"))
                and str(call.params.get("chat_id")) == str(chat)
                and _matches(call, expect)
            )

        wanted = expect if isinstance(expect, str) else getattr(expect, "__name__", "a test")
        return await self.wait_for(meant, since=since, what=f"a message to {chat} matching {wanted!r}")

    def summary(self) -> list[str]:
        return [
            f"{c.method} {c.params.get('chat_id', '')} {str(c.params.get('text', ''))[:60]!r}"
            for c in self.calls()
            if c.method != "getUpdates"
        ]

    # --- the Bot API ---------------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        with self.state.lock:
            update.setdefault("update_id", next(self._ids))
            self.state.updates.append(update)
            self.state.lock.notify_all()

    def _failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        queue = self.state.failures.get(method, [])
        for index, failure in enumerate(queue):
            if failure.chat_id is None or failure.chat_id == str(params.get("chat_id")):
                return queue.pop(index)
        return None

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 5)
        with self.state.lock:
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
            while not self.state.updates and time.monotonic() < deadline:
                self.state.lock.wait(deadline - time.monotonic())
            return list(self.state.updates)

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": _chat(int(params["chat_id"])),
            "from": _user(BOT_ID, "Peerlink", None, bot=True),
            **extra,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                **_user(BOT_ID, "Peerlink", None, bot=True),
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getUpdates":
            return self._get_updates(params)
        if method in {"sendMessage", "editMessageText"}:
            return self._message(params, text=params.get("text", ""))
        if method == "sendDocument":
            return self._message(
                params,
                document={
                    "file_id": "f1",
                    "file_unique_id": "u1",
                    "file_name": params.get("_filename", "file"),
                },
            )
        if method == "sendPhoto":
            size = {"file_id": "p1", "file_unique_id": "pu1", "width": 1320, "height": 1200}
            return self._message(params, photo=[size])
        if method == "getChatMember":
            status = self.state.statuses.get((str(params["chat_id"]), str(params["user_id"])), "member")
            member: dict[str, Any] = {"status": status, "user": _user(int(params["user_id"]))}
            if status == "administrator":
                member.update(ADMIN_RIGHTS)
            if status == "creator":
                member["is_anonymous"] = False
            return member
        if method in {"answerCallbackQuery", "setMyCommands", "setWebhook", "deleteWebhook"}:
            return True
        raise KeyError(method)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                if not self.path.startswith(f"/bot{standin.token}/"):
                    return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                params = _params(
                    self.headers.get("Content-Type", ""),
                    self.rfile.read(int(self.headers.get("Content-Length") or 0)),
                )
                call = Call(method, params, time.monotonic())
                with standin.state.lock:
                    standin.state.calls.append(call)
                    held = standin.state.holds.get(method)
                if held is not None:
                    held.wait(waiting.PATIENCE)
                with standin.state.lock:
                    failure = standin._failure(method, params)
                if failure is not None:
                    body: dict[str, Any] = {
                        "ok": False,
                        "error_code": failure.status,
                        "description": failure.description,
                    }
                    if failure.retry_after is not None:
                        body["parameters"] = {"retry_after": failure.retry_after}
                    return self._reply(failure.status, body)
                try:
                    result = standin._answer(method, params)
                except KeyError:
                    return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found: method"})
                params["_ok"] = True
                if isinstance(result, dict) and "message_id" in result:
                    params["_message_id"] = result["message_id"]
                return self._reply(200, {"ok": True, "result": result})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _decode(name: str, value: str) -> Any:
    if name in JSON_FIELDS:
        return json.loads(value)
    return value


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(body))
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            if part.get_filename():
                params["_filename"] = part.get_filename()
                params[f"_{name}_bytes"] = payload
            else:
                params[str(name)] = _decode(str(name), payload.decode())
        return params
    return {name: _decode(name, value) for name, value in parse_qsl(body.decode(), keep_blank_values=True)}


async def until(check: Callable[[], bool], *, what: str = "condition", standin: StandIn | None = None) -> None:
    """`tests.waiting.until`, reporting what the stand-in saw when it fails."""
    await waiting.until(check, what=what, seen=standin.summary if standin else None)


def settings_for(database_url: str, standin: StandIn, **extra: Any) -> Settings:

    return Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=TOKEN,
        telegram_api_url=standin.api_url,
        **extra,
    )


def buttons(params: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback_data or url) of a sent message's inline keyboard, row after row."""
    markup = params.get("reply_markup") or {"inline_keyboard": []}
    return [(b["text"], b.get("callback_data") or b.get("url")) for row in markup["inline_keyboard"] for b in row]


async def say(
    standin: StandIn,
    text: str,
    *,
    expect: Expect | None = None,
    replies: int = 1,
    user: int = 42,
    chat: int | None = None,
    name: str = "Ana",
    language: str | None = "en",
) -> list[str]:
    """Write `text` and wait for the answer; returns the (HTML) texts the bot sent to that chat since.

    With `expect` the list starts at the message you mean (a late reply to an earlier step is left
    out). Without it, this waits for `replies` messages, which is right only when every earlier step
    in the chat waited for all of its own replies.
    """
    where = chat if chat is not None else user
    since = standin.mark()
    standin.message(text, user=user, chat=chat, name=name, language=language)
    if expect is not None:
        meant = await standin.wait_for_message(where, expect, since=since)
        later = standin.sent_since(since, where)
        start = next(index for index, call in enumerate(later) if call is meant)
        return [c.params["text"] for c in later[start:]]
    await until(
        lambda: len(standin.sent_since(since, where)) >= replies,
        what=f"{replies} replies to {text!r}",
        standin=standin,
    )
    return [c.params["text"] for c in standin.sent_since(since, where)]


# The partnership's registered Telegram group: a door (bot.membership). The stand-in answers
# getChatMember with "member" unless told otherwise, so people in tests belong through it; a
# stranger is someone whose status in it is set to "left".
PARTNERSHIP_GROUP = -100777


def open_partnership_group(deps: Any, chat: int = PARTNERSHIP_GROUP) -> None:
    from bot.membership import register_group
    from bot.ports import Address
    from storage.db import transaction
    from storage.queries import default_community

    with transaction(deps.sessions) as session:
        community_id = default_community(session=session).id
        address = Address(platform="telegram", workspace=str(BOT_ID), chat=str(chat))
        register_group(session, community_id=community_id, address=address)


@asynccontextmanager
async def polling(deps: Any, standin: StandIn) -> AsyncIterator[None]:
    """`peerlink worker`'s Telegram part: the real Application long-polling the stand-in."""
    import asyncio

    from handlers.telegram.polling import run_polling

    open_partnership_group(deps)
    stop = asyncio.Event()
    task = asyncio.create_task(run_polling(deps, stop=stop, poll_timeout=1))
    await until(lambda: bool(standin.calls("getUpdates")) or task.done(), what="polling started", standin=standin)
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def polling_bot(url: str, standin: StandIn, clock: Any) -> AsyncIterator[Any]:
    """Deps on the database at `url`, with the real Application long-polling the stand-in."""
    from bot.runtime.compose import build_deps

    deps = build_deps(settings_for(url, standin), clock=clock, migrate=False)
    try:
        async with polling(deps, standin):
            yield deps
    finally:
        deps.engine.dispose()
