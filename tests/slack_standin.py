"""A stand-in for Slack on 127.0.0.1: the Web API methods the adapter calls, `response_url`s and
the file-upload URL, recording every call. It can answer any method with an error or a 429.

Also here: signing requests the way Slack does (v0 HMAC-SHA256 over `v0:{ts}:{body}`) and running
the real `peerlink serve` app under uvicorn in a background thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from bot.config import Settings
from bot.deps import Deps
from bot.runtime.compose import build_deps
from tests.conftest import FakeClock
from tests.waiting import PATIENCE, wait_until

T = TypeVar("T")

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
SECRET_KEY = "tfngv3liIBzj7HeBxzlv4-rDacDeFtwMaHWmVC6W4L8="  # a Fernet key sealing OAuth installations in tests
TEAM = "T0TEAM"
BOT_USER = "UBOT"


@dataclass
class Call:
    method: str  # Web API method, "respond:<name>" or "upload:<file id>"
    params: dict[str, Any]
    token: str | None = None


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1  # how many calls fail before the method works again


class SlackStandIn:
    def __init__(self, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, Failure] = {}
        self.holds: dict[str, threading.Event] = {}  # methods whose answers wait until released
        self.socket_url = ""  # where apps.connections.open sends Socket Mode clients
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle and inspection ---------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "") -> str:
        return f"{self.url}/respond/{name or uuid.uuid4().hex}"

    def start(self) -> SlackStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        for method in list(self.holds):
            self.release(method)
        self.server.shutdown()
        self.server.server_close()

    def add_user(
        self,
        user_id: str,
        *,
        locale: str = "en-US",
        tz: str = "Europe/Lisbon",
        admin: bool = False,
        name: str = "",
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name or user_id.lower(),
            "real_name": name or user_id,
            "tz": tz,
            "locale": locale,
            "is_admin": admin,
            "is_owner": False,
            "profile": {"display_name": name or user_id},
        }

    def fail(self, method: str, failure: Failure) -> None:
        self.failures[method] = failure

    def hold(self, method: str) -> None:
        """Calls to `method` are recorded, then answered only once `release(method)` is called: Slack
        being slow, at the moment a test chooses (e.g. to cut the database while a request is in
        the middle of its work)."""
        with self.lock:
            self.holds[method] = threading.Event()

    def release(self, method: str) -> None:
        with self.lock:
            held = self.holds.pop(method, None)
        if held is not None:
            held.set()

    def _wait_if_held(self, method: str) -> None:
        with self.lock:
            held = self.holds.get(method)
        if held is not None:
            held.wait(PATIENCE)

    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.method == method]

    def mark(self) -> int:
        """A position in the log of calls: what happens from now on is after it."""
        with self.lock:
            return len(self.calls)

    def calls_since(self, position: int) -> list[Call]:
        with self.lock:
            return self.calls[position:]

    def after(self, call: Call) -> int:
        """The position just after `call`: what was recorded later."""
        with self.lock:
            return next(index for index, seen in enumerate(self.calls) if seen is call) + 1

    def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        since: int = 0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """The calls to `method` after position `since` (and for which `where` holds), once there are
        `count` of them: the work happens after the ack. Take the one you mean by its content (`where`)
        rather than by its place: a late call from an earlier step may come first."""
        return self._wait(lambda call: call.method == method and (where is None or where(call)), count, since, method)

    def wait_for_prefix(self, prefix: str, count: int = 1, *, since: int = 0) -> list[Call]:
        return self._wait(lambda call: call.method.startswith(prefix), count, since, prefix + "*")

    def _wait(self, test: Callable[[Call], bool], count: int, since: int, what: str) -> list[Call]:
        found: list[Call] = []

        def arrived() -> bool:
            found[:] = [call for call in self.calls_since(since) if test(call)]
            return len(found) >= count

        wait_until(arrived, what=f"{count} call(s) to {what}", seen=lambda: [c.method for c in self.calls_since(since)])
        return found

    def texts(self) -> list[str]:
        """Every text and block text we sent anywhere, for checks on escaping."""
        found: list[str] = []
        with self.lock:
            for call in self.calls:
                found.extend(_strings(call.params))
        return found

    # --- answers --------------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM, "user_id": BOT_USER, "bot_id": "BBOT", "team": "Test"}
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            users = str(params.get("users", ""))
            ids = sorted(users.split(","))
            channel = "D" + ids[0] if len(ids) == 1 else "G" + hashlib.sha1(users.encode()).hexdigest()[:8].upper()
            return {"ok": True, "channel": {"id": channel}}
        if method in {"chat.postMessage", "chat.update"}:
            return {"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{time.time():.6f}"}
        if method in {"views.open", "views.publish", "views.update"}:
            return {"ok": True, "view": {"id": "V" + uuid.uuid4().hex[:8].upper()}}
        if method == "files.getUploadURLExternal":
            file_id = "F" + uuid.uuid4().hex[:8].upper()
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in _files(params)]}
        if method == "apps.connections.open" and self.socket_url:
            return {"ok": True, "url": self.socket_url}
        if method == "oauth.v2.access":
            return {
                "ok": True,
                "app_id": "A0APP",
                "access_token": "xoxb-installed",
                "token_type": "bot",
                "scope": "chat:write,commands",
                "bot_user_id": BOT_USER,
                "team": {"id": "T0OTHER", "name": "Other"},
                "enterprise": None,
                "authed_user": {"id": "UINSTALLER"},
            }
        return {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _reply(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                kind = "application/json" if isinstance(body, dict) else "text/plain"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                params: dict[str, Any] = dict(parse_qsl(parts.query))
                kind = self.headers.get("Content-Type", "")
                if parts.path.startswith("/upload/"):
                    standin._record(Call("upload:" + parts.path.rsplit("/", 1)[1], {"content": raw}))
                    self._reply(200, "OK - " + str(len(raw)))
                    return
                if "json" in kind and raw:
                    params.update(json.loads(raw))
                elif raw:
                    params.update(parse_qsl(raw.decode()))
                if parts.path.startswith("/respond/"):
                    standin._record(Call("respond:" + parts.path.rsplit("/", 1)[1], params))
                    self._reply(200, "ok")
                    return
                if parts.path == "/_calls":  # for a stand-in running in another process
                    with standin.lock:
                        counts: dict[str, Any] = {}
                        for call in standin.calls:
                            counts[call.method] = counts.get(call.method, 0) + 1
                    self._reply(200, counts)
                    return
                method = parts.path.removeprefix("/api/")
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") if auth else params.get("token")
                standin._record(Call(method, params, token))
                standin._wait_if_held(method)
                failure = standin._failure(method)
                if failure is not None:
                    self._reply(failure.status, failure.body, failure.headers)
                    return
                self._reply(200, standin.answer(method, params))

        return Handler

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def _failure(self, method: str) -> Failure | None:
        with self.lock:
            failure = self.failures.get(method)
            if failure is None:
                return None
            failure.times -= 1
            if failure.times <= 0:
                del self.failures[method]
            return failure


def in_channel(channel: str) -> Callable[[Call], bool]:
    """For `wait_for(..., where=)`: a message posted in `channel` (`D<user>`: that user's private chat)."""
    return lambda call: call.params.get("channel") == channel


def for_user(user: str) -> Callable[[Call], bool]:
    """For `wait_for(..., where=)`: a home (views.publish) drawn for `user`."""
    return lambda call: call.params.get("user_id") == user


def _files(params: dict[str, Any]) -> list[dict[str, Any]]:
    files = params.get("files")
    return json.loads(files) if isinstance(files, str) else list(files or [])


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(("{", "[")):
            try:
                yield from _strings(json.loads(value))
                return
            except ValueError:
                pass
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- signing and sending requests the way Slack does ----------------------------------------------


def signature(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    body: str,
    *,
    content_type: str,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
    retry: int | None = None,
) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(body, stamp, secret),
    }
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def command_body(
    standin: SlackStandIn,
    command: str,
    text: str = "",
    *,
    user: str = "U1",
    channel: str = "C0GENERAL",
    team: str = TEAM,
) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "response_url": standin.response_url(),
            "trigger_id": f"trigger.{uuid.uuid4().hex}",
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    payload.setdefault("trigger_id", f"trigger.{uuid.uuid4().hex}")
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], *, team: str = TEAM, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "event": event,
        }
    )


# --- the real web app, served for real --------------------------------------------------------------


class Served:
    """`app` under uvicorn on a free 127.0.0.1 port, in a background thread with its own loop."""

    def __init__(self, app: Starlette) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.resident: set[asyncio.Task[Any]] = set()  # the server's own tasks, running all along
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.server.serve(sockets=[self.sock])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), what="uvicorn started")
        if not self.server.started:
            raise RuntimeError("uvicorn did not start")
        self.resident = self._on_loop(self._tasks())
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=PATIENCE)
        self.sock.close()

    def settled(self) -> None:
        """Wait until the app has finished every piece of work it started: Slack's listeners run
        after the ack, so "nothing happened" can only be asserted once they are done."""
        self._on_loop(self._settle())

    async def _tasks(self) -> set[asyncio.Task[Any]]:
        return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]

    async def _settle(self) -> None:
        while pending := await self._tasks() - self.resident:  # work may start more work
            await asyncio.wait(pending)

    def _on_loop(self, work: Coroutine[Any, Any, T]) -> T:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=PATIENCE)


# --- the harness the Slack tests share ---------------------------------------------------------------


class SlackHarness:
    """The real `peerlink serve` app with Slack on, over real HTTP, talking to the stand-in."""

    def __init__(self, deps: Deps, standin: SlackStandIn, http: httpx.Client, served: Served) -> None:
        self.deps = deps
        self.standin = standin
        self.http = http
        self.served = served

    def post(self, body: str, *, content_type: str, **signing: Any) -> httpx.Response:
        headers = signed_headers(body, content_type=content_type, **signing)
        return self.http.post("/slack/events", content=body, headers=headers)

    def command(
        self,
        command: str,
        text: str = "",
        *,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        **fields: Any,
    ) -> httpx.Response:
        body = command_body(self.standin, command, text, **fields)
        return self.post(body, content_type="application/x-www-form-urlencoded", secret=secret, timestamp=timestamp)

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        return self.post(interaction_body(payload), content_type="application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> httpx.Response:
        return self.post(event_body(event, event_id=event_id), content_type="application/json", retry=retry)

    def dm(self, text: str, *, user: str = "U1") -> httpx.Response:
        return self.event(dm_event(user, text))

    def press(
        self, value: str, *, user: str = "U1", container: dict[str, Any] | None = None, block_id: str = "b"
    ) -> httpx.Response:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user},
            "api_app_id": "A0APP",
            "container": container or {"type": "view", "view_id": "V1"},
            "response_url": self.standin.response_url(),
            "actions": [{"type": "button", "action_id": "press:0", "block_id": block_id, "value": value}],
        }
        return self.interact(payload)


def dm_event(user: str, text: str) -> dict[str, Any]:
    """The event Slack sends when `user` writes `text` to the bot in a direct message."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": f"D{user}",
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
        "team": TEAM,
    }


def view_submission(
    view: dict[str, Any], values: dict[str, Any], *, user: str, team: str = TEAM, view_id: str = "V1", hash_: str = "h"
) -> dict[str, Any]:
    """The interaction payload Slack sends when `user` submits the modal `view` with these values."""
    return {
        "type": "view_submission",
        "team": {"id": team},
        "user": {"id": user},
        "api_app_id": "A0APP",
        "view": {
            "id": view_id,
            "type": "modal",
            "hash": hash_,
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": values},
        },
    }


def slack_settings(database_url: str, standin: SlackStandIn, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": standin.api_url,
        "peerlink_secret_key": SECRET_KEY,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    running = SlackStandIn().start()
    running.add_user("U1", name="Ana")
    running.add_user("U2", name="Bruno")
    yield running
    running.stop()


@pytest.fixture
def slack(database_url: str, standin: SlackStandIn) -> Iterator[SlackHarness]:
    from bot.runtime.web import build_web_app

    deps = build_deps(slack_settings(database_url, standin), clock=FakeClock(), migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=PATIENCE) as http:
        yield SlackHarness(deps, standin, http, served)
    deps.engine.dispose()
