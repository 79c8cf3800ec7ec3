"""How fast `peerlink serve` acknowledges Slack, next to a bare bolt app that only acks.

Run: .venv/bin/python tests/benchmarks/bench_slack.py [--requests 50] [--rounds 3] [--database-url URL]
(`BENCH_LOG=/tmp/bench.log` keeps the servers' logs.)

Three processes on 127.0.0.1: `peerlink serve` itself (uvicorn, SQLite), a bolt app whose one
listener only acks, and the local Slack stand-in (tests/slack_standin.py) both talk to. This
process sends each round N concurrent, correctly signed `/offer` commands to each app and
measures the time until the HTTP answer (the ack). Peerlink then does its real work after the ack
(users.info, the database, views.open), which competes with the acks of the same burst, as it
would in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler  # noqa: E402
from slack_bolt.async_app import AsyncAck, AsyncApp  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from tests.slack_standin import BOT_TOKEN, SIGNING_SECRET, TEAM, SlackStandIn, signed_headers  # noqa: E402

TARGET_MEDIAN_MS = 50.0
TARGET_P99_MS = 300.0


# --- the three servers ------------------------------------------------------------------------------


def bare_app(api_url: str) -> Starlette:
    app = AsyncApp(signing_secret=SIGNING_SECRET, client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url))

    @app.command("/offer")
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/slack/events", endpoint, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def serve_bare(port: int, api_url: str) -> None:
    import uvicorn

    uvicorn.run(bare_app(api_url), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_standin(port: int, users: int) -> None:
    standin = SlackStandIn(port)
    for n in range(users):
        standin.add_user(f"U{n}")
    standin.server.serve_forever()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(command: list[str], env: dict[str, str], ready: str) -> Iterator[str]:
    """Start a server process on a free port; yield its URL once `ready` answers; stop it at the end."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "DATABASE_"))}
    log = Path(os.environ.get("BENCH_LOG", os.devnull)).open("ab")  # noqa: SIM115  (closed in finally)
    child = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**clean, **env},
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=env["WORKDIR"],  # no stray .env file applies
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + ready, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)
        log.close()


# --- the measurement ---------------------------------------------------------------------------------


def offer_body(standin_url: str, user: str) -> str:
    return urlencode(
        {
            "team_id": TEAM,
            "channel_id": "C0GENERAL",
            "user_id": user,
            "command": "/offer",
            "text": "public procurement",
            "api_app_id": "A0APP",
            "response_url": f"{standin_url}/respond/{uuid.uuid4().hex}",
            "trigger_id": f"trigger.{uuid.uuid4().hex}",
        }
    )


async def one(http: aiohttp.ClientSession, url: str, standin_url: str, user: str) -> float:
    body = offer_body(standin_url, user)
    headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
    started = time.perf_counter()
    async with http.post(url + "/slack/events", data=body.encode(), headers=headers) as response:
        await response.read()
        status = response.status
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    return elapsed


async def burst(url: str, standin_url: str, requests: int, users: int) -> list[float]:
    connector = aiohttp.TCPConnector(limit=requests)
    async with aiohttp.ClientSession(connector=connector) as http:
        for n in range(users):  # warm-up, one at a time: auth.test, first contact of each person
            await one(http, url, standin_url, f"U{n}")
        await asyncio.sleep(0.5)  # the warm-up's own post-ack work is done
        runs = (one(http, url, standin_url, f"U{n % users}") for n in range(requests))
        return list(await asyncio.gather(*runs))


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def report(peerlink_times: list[float], bare_times: list[float], rounds: int, requests: int) -> None:
    print(f"{rounds} rounds x {requests} concurrent signed /offer requests, time to ack (ms)")
    print(f"{'':22} {'median':>8} {'p99':>8} {'max':>8}")
    for name, values in (("peerlink serve", peerlink_times), ("bare bolt (ack only)", bare_times)):
        print(f"{name:22} {statistics.median(values):8.1f} {p99(values):8.1f} {max(values):8.1f}")
    median_ratio = statistics.median(peerlink_times) / statistics.median(bare_times)
    p99_ratio = p99(peerlink_times) / p99(bare_times)
    print(f"ratio peerlink/bare: median {median_ratio:.2f}x, p99 {p99_ratio:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--database-url", help="an empty, migrated database (default: a new SQLite file)")
    parser.add_argument("--bare", metavar="API_URL", help=argparse.SUPPRESS)  # child process modes
    parser.add_argument("--standin", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        serve_bare(args.port, args.bare)
        return 0
    if args.standin:
        serve_standin(args.port, args.users)
        return 0
    me = [sys.executable, str(Path(__file__).resolve())]
    peerlink_times: list[float] = []
    bare_times: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        env = {"WORKDIR": folder}
        with process([*me, "--standin", "--users", str(args.users)], env, "/_calls") as standin_url:
            env |= {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": standin_url + "/api/",
                "DATABASE_URL": args.database_url or f"sqlite:///{folder}/bench.db",
            }
            serve = [str(Path(sys.executable).parent / "peerlink"), "serve", "--host", "127.0.0.1"]
            with (
                process(serve, env, "/healthz") as peerlink_url,
                process([*me, "--bare", standin_url + "/api/"], env, "/healthz") as bare_url,
            ):
                for _ in range(args.rounds):
                    bare_times += asyncio.run(burst(bare_url, standin_url, args.requests, args.users))
                    peerlink_times += asyncio.run(burst(peerlink_url, standin_url, args.requests, args.users))
                    time.sleep(1.0)  # Peerlink's post-ack work finishes before the next round
            opened = httpx.get(standin_url + "/_calls").json().get("views.open", 0)
    report(peerlink_times, bare_times, args.rounds, args.requests)
    print(f"modals opened after the ack: {opened} of {args.rounds * (args.requests + args.users)}")
    ok = statistics.median(peerlink_times) <= TARGET_MEDIAN_MS and p99(peerlink_times) <= TARGET_P99_MS
    verdict = "met" if ok else "MISSED"
    print(f"targets: median <= {TARGET_MEDIAN_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
