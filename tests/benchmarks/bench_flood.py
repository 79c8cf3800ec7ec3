"""While one person floods `peerlink serve`, how long does another person wait for their answers?

Run: .venv/bin/python tests/benchmarks/bench_flood.py [--platform both|slack|telegram]
     [--database sqlite|postgres] [--rounds 5] [--flood 300] [--other 10] [--pace 0.5]
(`--postgres-url` defaults to TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/test; a
fresh database is made there and dropped at the end. `BENCH_LOG=/tmp/flood.log` keeps serve's log.)

The real `peerlink serve` runs as a subprocess (as the Procfile runs it, `-v`), with Slack and the
Telegram webhook on, talking to the stand-ins (tests/slack_standin.py, tests/telegram_standin.py),
which run in this process and note when each answer arrives. On each platform, `--rounds` times,
with two new people each time:

- the other person sends `/help` every `--pace` seconds (`--other` times, well within their budget
  of REQUESTS_PER_MINUTE): a slash command on Slack, answered at its own `response_url`, so each
  answer is known; a webhook update on Telegram, answered in order (a person's updates run in order);
- a second in (a fifth of `--pace` later each round), the flooder, from a process of its own,
  sends `--flood` correctly signed requests as fast as the server takes them (Slack:
  `/help` slash commands and "help" private messages, alternately; Telegram: `/help` updates).

Printed: the other person's time from sending a request to its answer reaching the stand-in
(p50 / p99 / max over every round, and how many of those requests were sent while the flood was
being answered); what the flooders got: answered, told to slow down, dropped by the budget without
a word (the fair scheduler's verdicts, from /metrics), and lost — let run but never answered, or
never judged at all (must be 0). The target is the other person's p99 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.runtime.compose import build_deps  # noqa: E402
from tests import slack_standin as slack  # noqa: E402
from tests import telegram_standin as telegram  # noqa: E402

TARGET_P99_S = 1.0
WEBHOOK_SECRET = "bench-webhook-secret"
FLOOD_AFTER = 1.0  # seconds after the other person's first request
Child = asyncio.subprocess.Process
UPDATE_IDS = itertools.count(1)  # the other person's Telegram updates (the flooder's are numbered apart)
SLOW_DOWN = translator("en").t("core.slow_down")
PATIENCE = 120.0  # seconds to wait for answers still due
QUIET = 3.0  # seconds without a new answer after which the flood's work is taken as done
CONNECTIONS = 50  # the flooder's parallel connections


class TimedSlack(slack.SlackStandIn):
    """The Slack stand-in, noting when each call arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[int, float] = {}

    def _record(self, call: slack.Call) -> None:
        self.arrived[id(call)] = time.monotonic()
        super()._record(call)

    def at(self, call: slack.Call) -> float:
        return self.arrived[id(call)]


@dataclass
class Result:
    platform: str
    latencies: list[float]  # the other person's, seconds
    during: int  # of the other person's requests, how many were sent while the flood was handled
    missing: int  # the other person's requests never answered
    flood: int
    answered: int  # the flooder's requests answered
    slowed: int  # "slow down" replies the flooder got
    verdicts: dict[str, int]  # the fair scheduler's verdicts on the flooder's requests
    flood_seconds: float  # from the flood's first request to the flooder's last answer

    @property
    def lost(self) -> int:
        """Requests let run but never answered, "slow down"s never sent, requests never judged."""
        run, refused, told = (self.verdicts.get(name, 0) for name in ("run", "refused", "refused_tell"))
        return (run - self.answered) + (told - self.slowed) + (self.flood - run - refused - told)


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    admin_url = make_url(url).set(drivername="postgresql+psycopg", database="postgres")
    name = f"peerlink_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(database_url: str) -> None:
    """Migrate, and register the Telegram partnership group (the door its members come through)."""
    deps = build_deps(Settings(_env_file=None, database_url=database_url), migrate=True)  # type: ignore[call-arg]
    telegram.open_partnership_group(deps)
    deps.engine.dispose()


@contextmanager
def serve(database_url: str, slack_api: str, telegram_api: str, folder: str) -> Iterator[str]:
    """`peerlink -v serve` on a free port; yields its URL once it answers and has warmed up."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "DATABASE_", "REQUESTS_"))}
    env = keep | {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": slack.BOT_TOKEN,
        "SLACK_SIGNING_SECRET": slack.SIGNING_SECRET,
        "SLACK_API_URL": slack_api,
        "TELEGRAM_BOT_TOKEN": telegram.TOKEN,
        "TELEGRAM_API_URL": telegram_api,
        "TELEGRAM_WEBHOOK_URL": url + "/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    log_path = Path(os.environ.get("BENCH_LOG") or Path(folder) / "serve.log")
    command = [sys.executable, "-m", "bot.runtime.cli", "-v", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as log:
        child = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 90
        while not (_answers(url + "/healthz") and "matching indexes are warm" in log_path.read_text(errors="replace")):
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError(f"peerlink serve did not start; see {log_path}")
            time.sleep(0.2)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def turns(url: str) -> dict[str, int]:
    """The fair scheduler's verdicts so far (peerlink_fair_turns_total), by verdict."""
    found: dict[str, int] = {}
    for line in httpx.get(url + "/metrics", timeout=10).text.splitlines():
        matched = re.match(r'peerlink_fair_turns_total\{verdict="(\w+)"\} ([0-9.e+]+)', line)
        if matched:
            found[matched.group(1)] = round(float(matched.group(2)))
    return found


def flood_verdicts(before: dict[str, int], after: dict[str, int], others: int) -> dict[str, int]:
    """The verdicts between two readings, less the other person's requests (all within budget)."""
    delta = {verdict: after.get(verdict, 0) - before.get(verdict, 0) for verdict in after}
    delta["run"] = delta.get("run", 0) - others
    return delta


# --- sending ------------------------------------------------------------------------------------


async def post(http: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str]) -> None:
    for attempt in (1, 2):
        try:
            async with http.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}")
                return
        except aiohttp.ServerDisconnectedError:
            if attempt == 2:  # a kept-alive connection the server had just closed: sent again at once
                raise


def slack_command(standin_url: str, user: str, name: str) -> tuple[str, dict[str, str]]:
    """`/help` in a channel; its answer comes to a `response_url` named after the request."""
    fields = {
        "team_id": slack.TEAM,
        "channel_id": "C0GENERAL",
        "user_id": user,
        "command": "/help",
        "text": "",
        "api_app_id": "A0APP",
        "response_url": f"{standin_url}/respond/{name}-{uuid.uuid4().hex[:8]}",
        "trigger_id": f"trigger.{uuid.uuid4().hex}",
    }
    body = urlencode(fields)
    return body, slack.signed_headers(body, content_type="application/x-www-form-urlencoded")


def slack_dm(user: str, text: str) -> tuple[str, dict[str, str]]:
    body = slack.event_body(slack.dm_event(user, text))
    return body, slack.signed_headers(body, content_type="application/json")


def telegram_update(user: int, text: str, update_id: int) -> tuple[str, dict[str, str]]:
    """A private message as Telegram POSTs it to the webhook (ids unique across the processes)."""
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user, "type": "private", "first_name": f"P{user}"},
        "from": {"id": user, "is_bot": False, "first_name": f"P{user}", "language_code": "en"},
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}],
    }
    body = json.dumps({"update_id": update_id, "message": message})
    return body, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


async def paced(count: int, pace: float, send: Callable[[int], Awaitable[None]]) -> list[float]:
    """Send `count` requests, one every `pace` seconds whatever the answers do; their send times."""
    started = time.monotonic()
    sent: list[float] = []
    tasks = []
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n * pace - time.monotonic()))
        sent.append(time.monotonic())
        tasks.append(asyncio.create_task(send(n)))
    await asyncio.gather(*tasks)
    return sent


async def flood(count: int, send: Callable[[int], Awaitable[None]]) -> float:
    """Send `count` requests as fast as the server takes them; when the first went."""
    started = time.monotonic()
    window = asyncio.Semaphore(CONNECTIONS)

    async def one(n: int) -> None:
        async with window:
            await send(n)

    await asyncio.gather(*(one(n) for n in range(count)))
    return started


async def settle(count_answers: Callable[[], int], done: Callable[[], bool]) -> None:
    """Wait until `done`, and the answers have stopped coming for QUIET seconds."""
    deadline = time.monotonic() + PATIENCE
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_seen = count_answers()
        if now_seen != seen:
            seen, since = now_seen, time.monotonic()
        if done() and time.monotonic() - since >= QUIET:
            return
        await asyncio.sleep(0.2)


# --- the rounds ----------------------------------------------------------------------------------


async def round_slack(url: str, standin: TimedSlack, args: argparse.Namespace, number: int) -> Result:
    """One round: a new flooder and a new other person (the last round's are over their budget)."""
    flooder_id, other_id = f"UFLOOD{number}", f"UOTHER{number}"
    events = url + "/slack/events"
    connector = aiohttp.TCPConnector(limit=CONNECTIONS + 10)
    async with aiohttp.ClientSession(connector=connector) as http:
        for user in (other_id, flooder_id):  # first contact (users.info, the member) before timing
            since = standin.mark()
            await post(http, events, *slack_command(standin.url, user, "warm"))
            await asyncio.to_thread(standin.wait_for_prefix, "respond:", since=since)
        since = standin.mark()
        await post(http, events, *slack_dm(flooder_id, "help"))
        await asyncio.to_thread(standin.wait_for, "chat.postMessage", since=since)
        await asyncio.sleep(QUIET)  # every message of the answer is in
        per_dm = len([c for c in standin.calls_since(since) if c.method == "chat.postMessage"])
        before = turns(url)

        async def other(n: int) -> None:
            await post(http, events, *slack_command(standin.url, other_id, f"other{n}"))

        child = await flooder_ready(args, "slack", url, standin.url, flooder_id)
        mark = standin.mark()
        sent, flood_started = await asyncio.gather(
            paced(args.other, args.pace, other), flood_later(child, flood_at(args, number))
        )

        def answers(prefix: str) -> list[slack.Call]:
            return [c for c in standin.calls_since(mark) if c.method.startswith("respond:" + prefix)]

        def dms() -> list[slack.Call]:
            in_private = [c for c in standin.calls_since(mark) if c.method == "chat.postMessage"]
            return [c for c in in_private if c.params.get("channel") == f"D{flooder_id}"]

        await settle(lambda: len(standin.calls_since(mark)), lambda: len(answers("other")) >= args.other)
        after = turns(url)

    arrived = {c.method.removeprefix("respond:other").split("-")[0]: standin.at(c) for c in answers("other")}
    latencies = [arrived[str(n)] - sent[n] for n in range(args.other) if str(n) in arrived]
    flood_calls = answers("flood") + dms()
    slowed = sum(1 for c in flood_calls if c.params.get("text") == SLOW_DOWN)
    by_command = len({c.method for c in answers("flood") if c.params.get("text") != SLOW_DOWN})
    by_dm = sum(1 for c in dms() if c.params.get("text") != SLOW_DOWN) // max(1, per_dm)
    last = max((standin.at(c) for c in flood_calls), default=flood_started)
    return Result(
        platform="Slack",
        latencies=latencies,
        during=sum(1 for moment in sent if flood_started <= moment <= last),
        missing=args.other - len(latencies),
        flood=args.flood,
        answered=by_command + by_dm,
        slowed=slowed,
        verdicts=flood_verdicts(before, after, args.other),
        flood_seconds=last - flood_started,
    )


async def round_telegram(url: str, standin: telegram.StandIn, args: argparse.Namespace, number: int) -> Result:
    flooder_id, other_id = 7000 + 2 * number, 7001 + 2 * number
    webhook = url + "/telegram/webhook"
    connector = aiohttp.TCPConnector(limit=CONNECTIONS + 10)
    async with aiohttp.ClientSession(connector=connector) as http:
        per_help = {}
        for user in (other_id, flooder_id):  # first contact, and how many messages /help gets
            await post(http, webhook, *telegram_update(user, "/start", next(UPDATE_IDS)))
            await telegram.until(lambda user=user: bool(standin.sent(user)), what="the first answer")
            await asyncio.sleep(QUIET)  # every message of the greeting is in
            since = standin.mark()
            await post(http, webhook, *telegram_update(user, "/help", next(UPDATE_IDS)))
            await telegram.until(lambda user=user, since=since: bool(standin.sent_since(since, user)), what="help")
            await asyncio.sleep(QUIET)
            per_help[user] = len(standin.sent_since(since, user))
        before = turns(url)

        async def other(n: int) -> None:
            await post(http, webhook, *telegram_update(other_id, "/help", next(UPDATE_IDS)))

        child = await flooder_ready(args, "telegram", url, "", flooder_id)
        mark = standin.mark()
        sent, flood_started = await asyncio.gather(
            paced(args.other, args.pace, other), flood_later(child, flood_at(args, number))
        )
        wanted = args.other * per_help[other_id]
        await settle(lambda: len(standin.sent_since(mark)), lambda: len(standin.sent_since(mark, other_id)) >= wanted)
        after = turns(url)

    others, each = standin.sent_since(mark, other_id), per_help[other_id]
    # one person's updates run in order: the n-th request's answer ends with the (n+1)·each-th message
    latencies = [others[(n + 1) * each - 1].at - sent[n] for n in range(args.other) if (n + 1) * each <= len(others)]
    flooded = standin.sent_since(mark, flooder_id)
    slowed = sum(1 for c in flooded if c.params.get("text") == SLOW_DOWN)
    last = max((c.at for c in flooded), default=flood_started)
    return Result(
        platform="Telegram",
        latencies=latencies,
        during=sum(1 for moment in sent if flood_started <= moment <= last),
        missing=args.other - len(latencies),
        flood=args.flood,
        answered=(len(flooded) - slowed) // per_help[flooder_id],
        slowed=slowed,
        verdicts=flood_verdicts(before, after, args.other),
        flood_seconds=last - flood_started,
    )


def flood_at(args: argparse.Namespace, number: int) -> float:
    """When a round's flood starts: after the other person was answered twice in calm, a little
    later each round, so their requests meet the flood at different moments of it."""
    return FLOOD_AFTER + (number % 5) * args.pace / 5


async def flooder_ready(args: argparse.Namespace, platform: str, url: str, standin_url: str, flooder: object) -> Child:
    """The flooder, in a process of its own (so its work does not slow the stand-ins down), with
    every request made and signed, waiting for the word."""
    child = await asyncio.create_subprocess_exec(
        *(sys.executable, __file__, "--child", platform, url, standin_url or "-", str(flooder), str(args.flood)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    ready = await child.stdout.readline()
    assert ready.strip() == b"ready", ready
    return child


async def flood_later(child: Child, after: float) -> float:
    """The flood, `after` seconds in; when its first request went."""
    assert child.stdin is not None
    assert child.stdout is not None
    await asyncio.sleep(after)
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    started = float(await child.stdout.readline())  # time.monotonic() is the same clock in every process
    if await child.wait() != 0:
        raise RuntimeError("the flooding process failed")
    return started


def flood_child(platform: str, url: str, standin_url: str, flooder: str, count: int) -> None:
    """The flooder: `count` requests, made and signed first, sent as fast as the server takes them."""
    if platform == "slack":
        target = url + "/slack/events"
        requests = [
            slack_command(standin_url, flooder, f"flood{n}") if n % 2 == 0 else slack_dm(flooder, "help")
            for n in range(count)
        ]
    else:
        target = url + "/telegram/webhook"
        requests = [telegram_update(int(flooder), "/help", 10_000_000 + int(flooder) * 1000 + n) for n in range(count)]
    print("ready", flush=True)
    sys.stdin.readline()

    async def send() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as http:
            print(await flood(count, lambda n: post(http, target, *requests[n])), flush=True)

    asyncio.run(send())


def together(rounds: list[Result]) -> Result:
    first = rounds[0]
    verdicts: dict[str, int] = {}
    for each in rounds:
        for verdict, count in each.verdicts.items():
            verdicts[verdict] = verdicts.get(verdict, 0) + count
    return Result(
        platform=first.platform,
        latencies=[latency for each in rounds for latency in each.latencies],
        during=sum(each.during for each in rounds),
        missing=sum(each.missing for each in rounds),
        flood=sum(each.flood for each in rounds),
        answered=sum(each.answered for each in rounds),
        slowed=sum(each.slowed for each in rounds),
        verdicts=verdicts,
        flood_seconds=max(each.flood_seconds for each in rounds),
    )


# --- report ---------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(results: list[Result], args: argparse.Namespace) -> bool:
    load = os.getloadavg()
    print(f"peerlink serve ({args.database}), {args.rounds} rounds: a flood of {args.flood} requests from one person,")
    print(
        f"another person sending /help every {args.pace} s ({args.other} requests, the flood from {FLOOD_AFTER:g} s in)"
    )
    print(f"load average before: {args.load[0]:.2f} {args.load[1]:.2f} {args.load[2]:.2f}; after: {load[0]:.2f}")
    print()
    print(f"{'':9} {'other person: answer time (ms)':>32}   {'flooder':>40}")
    print(
        f"{'platform':9} {'p50':>7} {'p99':>7} {'max':>7} {'during':>8}   "
        f"{'answered':>9} {'slow down':>9} {'dropped':>8} {'lost':>5} {'flood s':>8}"
    )
    met = True
    for r in results:
        if not r.latencies:
            print(f"{r.platform:9} no answers to the other person")
            met = False
            continue
        p99 = percentile(r.latencies, 0.99)
        met = met and p99 < TARGET_P99_S and r.missing == 0 and r.lost == 0
        print(
            f"{r.platform:9} {statistics.median(r.latencies) * 1000:7.0f} {p99 * 1000:7.0f} "
            f"{max(r.latencies) * 1000:7.0f} {r.during:>4}/{len(r.latencies):<3}   "
            f"{r.answered:>9} {r.slowed:>9} {r.verdicts.get('refused', 0):>8} {r.lost:>5} {r.flood_seconds:8.1f}"
        )
        if r.missing:
            print(f"{'':9} {r.missing} of the other person's requests were never answered")
    print()
    print(f"target: the other person's p99 < {TARGET_P99_S * 1000:.0f} ms, nothing lost: {'met' if met else 'MISSED'}")
    return met


async def run(url: str, slack_in: TimedSlack, telegram_in: telegram.StandIn, args: argparse.Namespace) -> list[Result]:
    results = []
    if args.platform in ("both", "slack"):
        results.append(together([await round_slack(url, slack_in, args, n) for n in range(args.rounds)]))
    if args.platform in ("both", "telegram"):
        results.append(together([await round_telegram(url, telegram_in, args, n) for n in range(args.rounds)]))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--platform", choices=["both", "slack", "telegram"], default="both")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    default_pg = os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    parser.add_argument("--postgres-url", default=default_pg)
    parser.add_argument("--flood", type=int, default=300, help="the flooder's requests")
    parser.add_argument("--rounds", type=int, default=5, help="each with a new flooder and a new other person")
    parser.add_argument("--other", type=int, default=10, help="the other person's requests in a round")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between the other person's requests")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)  # the flooder's own process
    args = parser.parse_args()
    if args.child:
        platform, url, standin_url, flooder, count = args.child
        flood_child(platform, url, standin_url, flooder, int(count))
        return 0
    args.load = os.getloadavg()
    slack_in = TimedSlack().start()
    for number in range(args.rounds):
        slack_in.add_user(f"UFLOOD{number}")
        slack_in.add_user(f"UOTHER{number}")
    telegram_in = telegram.StandIn().start()
    try:
        with tempfile.TemporaryDirectory() as folder, database_for(args, folder) as database:
            prepare(database)
            with serve(database, slack_in.api_url, telegram_in.api_url, folder) as url:
                results = asyncio.run(run(url, slack_in, telegram_in, args))
    finally:
        slack_in.stop()
        telegram_in.stop()
    return 0 if report(results, args) else 1


@contextmanager
def database_for(args: argparse.Namespace, folder: str) -> Iterator[str]:
    if args.database == "postgres":
        with postgres_database(args.postgres_url) as url:
            yield url
    else:
        yield f"sqlite:///{folder}/bench.db"


if __name__ == "__main__":
    sys.exit(main())
