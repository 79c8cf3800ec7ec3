"""Peerlink under sustained load: two `peerlink serve` and two `peerlink worker` processes on PostgreSQL.

Run: .venv/bin/python tests/benchmarks/bench_load.py [--people 200] [--minutes 5] [--think 10]
     [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
(`BENCH_LOG=/tmp/load.log` keeps the processes' logs.)

A fresh PostgreSQL database is created and migrated for the run (and dropped after it). The Slack
and Telegram stand-ins (tests/slack_standin.py, tests/telegram_standin.py) run in a process of their
own and are the platforms for all four Peerlink processes. Half the simulated people are on Slack,
half on Telegram, paired across platforms: each pair was introduced (a match), so what one writes
with `/reply <match> …` goes to the other through the outbox, and the workers deliver it.

Each person acts every `--think` seconds on average (uniformly 0.5x to 1.5x), sending correctly
signed requests to either web process at random, without waiting for the answer:
- on Slack: a private message `/reply N …` (an event), the slash command `/reply N …`, or `/matches`;
- on Telegram: a webhook update `/reply N …` or `/matches`.

Reported: requests per second, time to the HTTP answer (the ack) per platform, outbox lag (due →
sent, from the delivered rows), and the checks: every request answered exactly once at the stand-in
(a command's own response_url; a person's answers in their chat), every relayed message delivered
exactly once. The machine's load average is printed too: the figures depend on what else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.members import resolve  # noqa: E402
from bot.ports import Sender  # noqa: E402
from bot.runtime.compose import build_deps  # noqa: E402
from handlers.telegram.webhook import PATH as TELEGRAM_PATH  # noqa: E402
from handlers.telegram.webhook import SECRET_HEADER, webhook_secret  # noqa: E402
from storage.db import transaction  # noqa: E402
from storage.models import Delivery, DeliveryStatus, Match, MatchStatus, Organisation, Post, PostKind, Response  # noqa: E402
from tests.benchmarks.bench_outbox import fresh_postgres  # noqa: E402
from tests.benchmarks.bench_slack import free_port, p99  # noqa: E402
from tests.slack_standin import (  # noqa: E402
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    SlackStandIn,
    command_body,
    event_body,
    signed_headers,
)
from tests.telegram_standin import BOT_ID, TOKEN, StandIn, open_partnership_group  # noqa: E402

FIRST_TELEGRAM_USER = 700_000
SETTLE_SECONDS = 180.0  # after the load: how long the last answers and deliveries may take
QUIET_SECONDS = 3.0  # the stand-ins saw nothing new for this long: everything has arrived


# --- the stand-ins, in a process of their own ----------------------------------------------------------


def serve_standins(pairs: int) -> None:
    """Child mode: both stand-ins; their URLs on the first line of stdout, then answer `count` (calls
    so far) and `dump` (every call, the fields the checks need) read on stdin, one per line."""
    slack = SlackStandIn().start()
    for n in range(pairs):
        slack.add_user(slack_user(n), name=f"Slack person {n}")
    telegram = StandIn().start()
    print(json.dumps({"slack": slack.url, "telegram": telegram.api_url}), flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(json.dumps(slack.mark() + telegram.mark()), flush=True)
        elif line.strip() == "dump":
            slack_calls = [
                [call.method, str(call.params.get("channel", "")), str(call.params.get("text", ""))]
                for call in slack.calls_since(0)
            ]
            telegram_calls = [
                [call.method, str(call.params.get("chat_id", "")), str(call.params.get("text", ""))]
                for call in telegram.calls()
                if call.params.get("_ok")
            ]
            print(json.dumps({"slack": slack_calls, "telegram": telegram_calls}), flush=True)


class StandIns:
    def __init__(self, people: int, log: TextIO) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--standins", "--people", str(people)]
        self.child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        urls = json.loads(self._line())
        self.slack_url: str = urls["slack"]
        self.telegram_api_url: str = urls["telegram"]

    def _line(self) -> str:
        assert self.child.stdout is not None
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError("the stand-ins stopped")
        return line

    def ask(self, what: str) -> Any:
        assert self.child.stdin is not None
        self.child.stdin.write(what + "\n")
        self.child.stdin.flush()
        return json.loads(self._line())

    def stop(self) -> None:
        assert self.child.stdin is not None
        self.child.stdin.close()
        self.child.wait(timeout=30)


# --- the four Peerlink processes --------------------------------------------------------------------


def slack_user(n: int) -> str:
    return f"U{n:05d}"


def telegram_user(n: int) -> int:
    return FIRST_TELEGRAM_USER + n


def peerlink_env(url: str, standins: StandIns, webhook: str, folder: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "DATABASE_", "LOG_"))}
    return {
        **clean,
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standins.slack_url + "/api/",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": standins.telegram_api_url,
        "TELEGRAM_WEBHOOK_URL": webhook,  # updates come to the web processes; the workers do not poll
        "HOME": folder,
    }


def ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def peerlink(kind: str, env: dict[str, str], folder: str, log: TextIO) -> Iterator[str]:
    """`peerlink serve` or `peerlink worker` on a free port; yields its base URL once ready."""
    port = free_port()
    command = [sys.executable, "-m", "bot.runtime.cli", kind]
    if kind == "serve":
        command += ["--host", "127.0.0.1", "--port", str(port)]
    child = subprocess.Popen(command, env={**env, "WORKER_PORT": str(port)}, cwd=folder, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not ready(url):
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError(f"peerlink {kind} did not get ready")
            time.sleep(0.2)
        yield url
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            code = child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        if code != 0:
            print(f"peerlink {kind} on port {port} exited with {code}")


# --- the people and their matches ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    slack: str  # Slack user id
    telegram: int  # Telegram user id (= their private chat)
    match: int


def seed(deps: Deps, pairs: int) -> list[Pair]:
    """Each Slack person's offer matched with a Telegram person's need, both accepted and introduced."""
    open_partnership_group(deps)
    found = []
    now = datetime.now(UTC)
    with transaction(deps.sessions) as session:
        for n in range(pairs):
            sides = []
            for sender, kind in (
                (Sender(platform="slack", workspace=TEAM, user_id=slack_user(n), display_name=f"S{n}"), PostKind.offer),
                (
                    Sender(
                        platform="telegram", workspace=str(BOT_ID), user_id=str(telegram_user(n)), display_name=f"T{n}"
                    ),
                    PostKind.need,
                ),
            ):
                who = resolve(session, sender)
                organisation = Organisation(
                    community_id=who.community_id, name=f"{sender.platform} org {n}", city="Lisboa"
                )
                session.add(organisation)
                session.flush()
                who.member.organisation_id = organisation.id
                who.member.admitted = True
                post = Post(
                    community_id=who.community_id,
                    organisation_id=organisation.id or 0,
                    member_id=who.member_id,
                    ref=f"load-{sender.platform}-{n}",
                    kind=kind,
                    title=f"Load {kind.value} {n}",
                    description="Social clauses in public tenders",
                    language="en",
                )
                session.add_all([who.member, post])
                session.flush()
                sides.append(post)
            offer, need = sides
            match = Match(
                community_id=need.community_id,
                need_id=need.id or 0,
                offer_id=offer.id or 0,
                score=0.7,
                status=MatchStatus.introduced,
                need_response=Response.accepted,
                offer_response=Response.accepted,
                introduced_at=now,
            )
            session.add(match)
            session.flush()
            found.append(Pair(slack_user(n), telegram_user(n), match.id or 0))
    return found


# --- the load ---------------------------------------------------------------------------------------


@dataclass
class Sent:
    platform: str
    action: str
    ack_ms: float
    status: int


@dataclass
class Expected:
    """What the stand-ins must have seen, exactly once each, once everything has settled."""

    responses: set[str] = field(default_factory=set)  # Slack commands' response_url names
    slack_answers: Counter[str] = field(default_factory=Counter)  # Slack user -> answers in their chat
    telegram_answers: Counter[int] = field(default_factory=Counter)  # Telegram chat -> answers
    relayed: dict[str, str] = field(default_factory=dict)  # marker -> where it must arrive


class Load:
    def __init__(self, web: list[str], standin_url: str, telegram_secret: str, think: float) -> None:
        self.web = web
        self.standin_url = standin_url
        self.telegram_secret = telegram_secret
        self.think = think
        self.sent: list[Sent] = []
        self.expected = Expected()
        self.updates = iter(range(1, 10**9))
        self.sequence = iter(range(1, 10**9))

    async def post(
        self, http: aiohttp.ClientSession, platform: str, action: str, path: str, body: str, headers: dict[str, str]
    ) -> None:
        started = time.perf_counter()
        try:
            async with http.post(random.choice(self.web) + path, data=body.encode(), headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0  # no answer at all: reported with the other statuses than 200
        self.sent.append(Sent(platform, action, (time.perf_counter() - started) * 1000, status))

    async def slack(self, http: aiohttp.ClientSession, pair: Pair) -> None:
        marker = f"load s{next(self.sequence)}"
        action = random.choices(["message", "command", "matches"], weights=[4, 3, 3])[0]
        if action == "message":
            event = {
                "type": "message",
                "channel_type": "im",
                "channel": f"D{pair.slack}",
                "user": pair.slack,
                "text": f"/reply {pair.match} {marker}",
                "ts": f"{time.time():.6f}",
                "team": TEAM,
            }
            body, kind = event_body(event), "application/json"
            self.expected.slack_answers[pair.slack] += 1
        else:
            name = uuid.uuid4().hex
            command, text = ("/reply", f"{pair.match} {marker}") if action == "command" else ("/matches", "")
            responder: Any = _Responder(self.standin_url, name)
            body = command_body(responder, command, text, user=pair.slack, channel=f"D{pair.slack}")
            kind = "application/x-www-form-urlencoded"
            self.expected.responses.add(name)
        if action != "matches":
            self.expected.relayed[marker] = str(pair.telegram)
        await self.post(http, "slack", action, "/slack/events", body, signed_headers(body, content_type=kind))

    async def telegram(self, http: aiohttp.ClientSession, pair: Pair) -> None:
        marker = f"load t{next(self.sequence)}"
        action = random.choices(["reply", "matches"], weights=[6, 4])[0]
        text = f"/reply {pair.match} {marker}" if action == "reply" else "/matches"
        if action == "reply":
            self.expected.relayed[marker] = pair.slack
        self.expected.telegram_answers[pair.telegram] += 1
        body = json.dumps(telegram_update(next(self.updates), pair.telegram, text))
        headers = {"Content-Type": "application/json", SECRET_HEADER: self.telegram_secret}
        await self.post(http, "telegram", action, TELEGRAM_PATH, body, headers)

    async def person(self, http: aiohttp.ClientSession, pair: Pair, platform: str, until: float) -> None:
        act = self.slack if platform == "slack" else self.telegram
        await asyncio.sleep(random.uniform(0, self.think))  # people do not start at the same moment
        running: set[asyncio.Task[None]] = set()
        while time.monotonic() < until:
            task = asyncio.create_task(act(http, pair))  # the next action does not wait for the answer
            running.add(task)
            task.add_done_callback(running.discard)
            await asyncio.sleep(random.uniform(0.5, 1.5) * self.think)
        await asyncio.gather(*running)

    async def run(self, pairs: list[Pair], seconds: float) -> float:
        until = time.monotonic() + seconds
        connector = aiohttp.TCPConnector(limit=400)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
            started = time.monotonic()
            people = [self.person(http, pair, "slack", until) for pair in pairs]
            people += [self.person(http, pair, "telegram", until) for pair in pairs]
            await asyncio.gather(*people)
            return time.monotonic() - started


@dataclass(frozen=True)
class _Responder:
    """What `command_body` needs of a stand-in: a response_url whose name the checks know."""

    url: str
    name: str

    def response_url(self) -> str:
        return f"{self.url}/respond/{self.name}"


def telegram_update(update_id: int, user: int, text: str) -> dict[str, Any]:
    """A private message as Telegram POSTs it to the webhook."""
    command = text.split(" ", 1)[0]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": f"T{user}"},
            "from": {"id": user, "is_bot": False, "first_name": f"T{user}", "language_code": "en"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


# --- settling and checking ------------------------------------------------------------------------------


def open_rows(deps: Deps) -> int:
    waiting = (DeliveryStatus.pending, DeliveryStatus.sending)
    with deps.sessions() as session:
        return int(session.exec(select(func.count()).where(col(Delivery.status).in_(waiting))).one())


def settle(deps: Deps, standins: StandIns) -> float:
    """Wait until the outbox is empty and the stand-ins have seen nothing new for QUIET_SECONDS."""
    started = time.monotonic()
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() - started < SETTLE_SECONDS:
        count = standins.ask("count")
        if count != last:
            last, quiet_since = count, time.monotonic()
        elif open_rows(deps) == 0 and time.monotonic() - quiet_since >= QUIET_SECONDS:
            break
        time.sleep(0.5)
    return time.monotonic() - started


@dataclass
class Check:
    name: str
    expected: int
    missing: int
    extra: int

    def line(self) -> str:
        verdict = "ok" if self.missing == self.extra == 0 else "FAILED"
        counts = f"{self.expected:>7} expected, {self.missing:>5} missing, {self.extra:>5} twice or more"
        return f"  {self.name:<44} {counts}: {verdict}"


def compare(name: str, expected: Counter[Any], got: Counter[Any]) -> Check:
    missing = sum(max(0, count - got[key]) for key, count in expected.items())
    extra = sum(max(0, count - expected[key]) for key, count in got.items())
    return Check(name, sum(expected.values()), missing, extra)


def checks(expected: Expected, calls: dict[str, list[list[str]]], pairs: list[Pair]) -> list[Check]:
    markers = set(expected.relayed)
    responses = Counter(
        method.removeprefix("respond:") for method, _, _ in calls["slack"] if method.startswith("respond:")
    )
    slack_users = {f"D{pair.slack}": pair.slack for pair in pairs} | {pair.slack: pair.slack for pair in pairs}
    slack_answers: Counter[str] = Counter()
    arrived: Counter[str] = Counter()
    where: dict[str, str] = {}
    for method, channel, text in calls["slack"]:
        if method != "chat.postMessage" or channel not in slack_users:
            continue
        marker = _marker(text, markers)
        if marker is None:
            slack_answers[slack_users[channel]] += 1
        else:
            arrived[marker] += 1
            where[marker] = slack_users[channel]
    telegram_answers: Counter[int] = Counter()
    for method, chat, text in calls["telegram"]:
        if method != "sendMessage":
            continue
        marker = _marker(text, markers)
        if marker is None:
            telegram_answers[int(chat)] += 1
        else:
            arrived[marker] += 1
            where[marker] = chat
    misplaced = sum(1 for marker, place in where.items() if expected.relayed[marker] != place)
    return [
        compare("Slack commands answered (response_url)", Counter(expected.responses), responses),
        compare("Slack messages answered (private chat)", expected.slack_answers, slack_answers),
        compare("Telegram updates answered (private chat)", expected.telegram_answers, telegram_answers),
        compare("relayed through the outbox", Counter(expected.relayed.keys()), arrived),
        Check("relayed to the wrong person", 0, 0, misplaced),
    ]


def _marker(text: str, markers: set[str]) -> str | None:
    """The load marker (`load s12`, `load t34`) a relayed message carries, if it is one we sent."""
    for word_index, word in enumerate(parts := html.unescape(text).split()):
        if word == "load" and word_index + 1 < len(parts):
            candidate = f"load {parts[word_index + 1]}"
            if candidate in markers:
                return candidate
    return None


def lags(deps: Deps, since: datetime) -> dict[int, list[float]]:
    """Due -> sent of the rows planned during the load, in seconds, by the minute they fell due in."""
    with deps.sessions() as session:
        rows = session.exec(
            select(Delivery.due_at, Delivery.sent_at).where(
                Delivery.created_at >= since, Delivery.status == DeliveryStatus.sent
            )
        ).all()
    by_minute: dict[int, list[float]] = {}
    for due, sent in rows:
        if sent is not None:
            by_minute.setdefault(int((due - since).total_seconds() // 60), []).append((sent - due).total_seconds())
    return by_minute


# --- the report ------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    return f"p50 {statistics.median(values):7.1f}  p99 {p99(values):7.1f}  max {max(values):7.1f}"


def report(
    load: Load,
    seconds: float,
    lag: dict[int, list[float]],
    found: list[Check],
    settled: float,
    args: argparse.Namespace,
) -> bool:
    total = len(load.sent)
    half = args.people // 2
    print(f"{args.people} people ({half} Slack, {half} Telegram), {seconds:.0f} s of load, think {args.think:g} s")
    print(f"requests: {total} in {seconds:.1f} s = {total / seconds:.1f} per second")
    for platform in ("slack", "telegram"):
        mine = [sent for sent in load.sent if sent.platform == platform]
        actions = Counter(sent.action for sent in mine)
        bad = Counter(sent.status for sent in mine if sent.status != 200)
        mix = ", ".join(f"{action} {count}" for action, count in sorted(actions.items()))
        print(f"  {platform:<9} {len(mine):>6} ({mix})" + (f", non-200: {dict(bad)}" if bad else ""))
    print("ack latency (ms), time to the HTTP answer:")
    for platform in ("slack", "telegram"):
        print(f"  {platform:<9} {percentiles([sent.ack_ms for sent in load.sent if sent.platform == platform])}")
    every = [value for values in lag.values() for value in values]
    print(f"outbox lag (s), due -> sent, {len(every)} rows: {percentiles(every)}")
    print("  p99 by minute of the load: " + ", ".join(f"{p99(lag[minute]):.1f}" for minute in sorted(lag)))
    print(f"settled {settled:.1f} s after the load ended")
    print("checks:")
    for check in found:
        print(check.line())
    bad_status = sum(1 for sent in load.sent if sent.status != 200)
    return bad_status == 0 and all(check.missing == check.extra == 0 for check in found)


def machine() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=200, help="simulated people, half on each platform")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between one person's actions")
    parser.add_argument(
        "--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--standins", action="store_true", help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.standins:
        serve_standins(args.people // 2)
        return 0
    pairs_wanted = args.people // 2
    url, drop = fresh_postgres(args.postgres)
    print(f"before: {machine()}")
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        stack.callback(drop)
        log = stack.enter_context(open(Path(folder) / "processes.log", "w"))
        standins = StandIns(args.people, log)
        stack.callback(standins.stop)
        settings = Settings(_env_file=None, database_url=url, telegram_bot_token=TOKEN)  # type: ignore[call-arg]
        deps = build_deps(settings, migrate=False)
        stack.callback(deps.engine.dispose)
        pairs = seed(deps, pairs_wanted)
        webhook = "http://127.0.0.1:1/telegram/webhook"  # what setWebhook is told; the stand-in does not call it
        env = peerlink_env(url, standins, webhook, folder)
        web = [stack.enter_context(peerlink("serve", env, folder, log)) for _ in range(2)]
        for _ in range(2):
            stack.enter_context(peerlink("worker", env, folder, log))
        load = Load(web, standins.slack_url, webhook_secret(settings), args.think)
        since = datetime.now(UTC)
        seconds = asyncio.run(load.run(pairs, args.minutes * 60))
        print(f"during: {machine()}")
        settled = settle(deps, standins)
        found = checks(load.expected, standins.ask("dump"), pairs)
        ok = report(load, seconds, lags(deps, since), found, settled, args)
        log.flush()
        lines = (Path(folder) / "processes.log").read_text().splitlines()
        errors = sum(1 for line in lines if "ERROR" in line or "Traceback" in line)
        print(f"error lines in the processes' logs: {errors}")
        if os.environ.get("BENCH_LOG"):
            shutil.copy(Path(folder) / "processes.log", os.environ["BENCH_LOG"])
    print(f"after: {machine()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
