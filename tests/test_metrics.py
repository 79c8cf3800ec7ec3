"""`GET /metrics` in Prometheus text format: HTTP traffic by route and status, Slack's ack time, the
outbox (rows by status and kind, deliveries by outcome, due-to-sent latency, parked rows, the
oldest due row's age) and active conversations."""

from __future__ import annotations

from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.deps import Deps
from bot.runtime.web import build_web_app
from schedules.outbox import Dispatcher, OutboxPolicy
from tests import slack_standin
from tests.conftest import FakeClock
from tests.schedules_support import RecordingNotifier, clock_sleep, plan, rate_limited
from tests.slack_standin import SlackHarness

slack = slack_standin.slack  # fixtures
standin = slack_standin.standin


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_and_slack_acks_are_counted(slack: SlackHarness) -> None:
    assert slack.command("/help").status_code == 200
    slack.standin.wait_for_prefix("respond:")
    assert slack.http.get("/nowhere").status_code == 404
    response = slack.http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    found = _samples(response.text)
    assert found[("peerlink_http_requests_total", (("route", "/slack/events"), ("status", "200")))] == 1
    assert found[("peerlink_http_requests_total", (("route", "other"), ("status", "404")))] == 1
    assert found[("peerlink_slack_ack_seconds_count", ())] == 1
    assert found[("peerlink_http_request_seconds_count", (("route", "/slack/events"),))] == 1


async def test_the_outbox_is_visible(deps: Deps, clock: FakeClock) -> None:
    notifier = RecordingNotifier("slack", clock)
    notifier.failures["C2"] = [rate_limited(5)]
    deps.notifiers["slack"] = notifier
    plan(deps, "late", chat="C1", due=clock.now() - timedelta(minutes=3))
    plan(deps, "held", chat="C2")
    plan(deps, "later", chat="C3", kind="digest", due=clock.now() + timedelta(hours=1))
    dispatcher = Dispatcher(deps, policy=OutboxPolicy(), sleep=clock_sleep(clock))
    await dispatcher.tick()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web_app(deps)), base_url="http://x") as http:
        found = _samples((await http.get("/metrics")).text)
    assert found[("peerlink_deliveries_total", (("kind", "reminder"), ("outcome", "sent")))] == 1
    assert found[("peerlink_deliveries_total", (("kind", "reminder"), ("outcome", "rate_limited")))] == 1
    assert found[("peerlink_delivery_latency_seconds_sum", (("kind", "reminder"),))] >= 180
    assert found[("peerlink_outbox_rows", (("kind", "reminder"), ("status", "sent")))] == 1
    assert found[("peerlink_outbox_rows", (("kind", "digest"), ("status", "pending")))] == 1
    assert found[("peerlink_outbox_parked_rows", ())] == 0
    assert found[("peerlink_outbox_oldest_due_age_seconds", ())] == 0  # the held row is not due yet
    assert found[("peerlink_active_conversations", ())] == 0


async def test_a_matching_round_is_timed(deps: Deps) -> None:
    with deps.sessions() as session:
        deps.matcher.run_round(session, 1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web_app(deps)), base_url="http://x") as http:
        found = _samples((await http.get("/metrics")).text)
    assert found[("peerlink_matching_round_seconds_count", ())] == 1
