"""What an operator watches, in Prometheus' text format: traffic, acknowledgement time, the outbox,
deliveries, rounds and conversations.

Counters and histograms are kept by the process that does the work; gauges that describe shared
state (outbox rows by status and kind, parked rows, the oldest due row's age, active conversations)
are read from the database when scraped, so every process reports the same truth. When
`PROMETHEUS_MULTIPROC_DIR` is set (several processes behind one port, e.g. a pre-forking server),
prometheus-client keeps the counters in files there and the scrape adds them up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from bot.ports import Clock
from storage.db import SessionFactory
from storage.models import ConversationState, Delivery, DeliveryStatus

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ACTIVE_CONVERSATION = timedelta(hours=1)  # a conversation touched this recently is "active"
FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SLOW = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


class SharedState(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def describe(self) -> Iterator[Metric]:
        # What the registry checks names against; without it, registering would query the database.
        yield GaugeMetricFamily("peerlink_outbox_rows", "Outbox rows by status and kind", labels=["status", "kind"])
        yield GaugeMetricFamily("peerlink_outbox_parked_rows", "Rows given up on, waiting for a person")
        yield GaugeMetricFamily("peerlink_outbox_oldest_due_age_seconds", "How late the oldest pending row is")
        yield GaugeMetricFamily("peerlink_active_conversations", "Conversations touched in the last hour")

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._read()
        except SQLAlchemyError:  # the database is down: /readyz says so; the process's own metrics still count
            log.warning("metrics: the database did not answer; shared gauges left out")

    def _read(self) -> Iterator[Metric]:
        now = self.clock.now()
        rows = GaugeMetricFamily("peerlink_outbox_rows", "Outbox rows by status and kind", labels=["status", "kind"])
        with self.sessions() as session:
            counted = session.exec(
                select(Delivery.status, Delivery.kind, func.count()).group_by(Delivery.status, Delivery.kind)
            ).all()
            oldest = session.exec(
                select(func.min(Delivery.due_at)).where(Delivery.status == DeliveryStatus.pending)
            ).one()
            active = session.exec(
                select(func.count()).where(col(ConversationState.updated_at) > now - ACTIVE_CONVERSATION)
            ).one()
        for status, kind, count in counted:
            rows.add_metric([str(status), kind], count)
        yield rows
        parked = sum(count for status, _kind, count in counted if status == DeliveryStatus.parked)
        yield GaugeMetricFamily("peerlink_outbox_parked_rows", "Rows given up on, waiting for a person", value=parked)
        yield GaugeMetricFamily(
            "peerlink_outbox_oldest_due_age_seconds", "How late the oldest pending row is", value=_age(oldest, now)
        )
        yield GaugeMetricFamily("peerlink_active_conversations", "Conversations touched in the last hour", value=active)


def _age(due: datetime | None, now: datetime) -> float:
    return max(0.0, (now - due).total_seconds()) if due is not None else 0.0


@dataclass
class Metrics:
    registry: CollectorRegistry
    http_requests: Counter
    http_seconds: Histogram
    slack_ack_seconds: Histogram
    deliveries: Counter
    delivery_latency: Histogram
    round_seconds: Histogram
    fair_turns: Counter
    shared: SharedState | None = None

    @classmethod
    def create(cls, sessions: SessionFactory | None = None, clock: Clock | None = None) -> Metrics:
        """A registry of its own per process (and per test), with the shared-state gauges when the
        database is known."""
        registry = CollectorRegistry(auto_describe=True)
        shared = SharedState(sessions, clock) if sessions is not None and clock is not None else None
        if shared is not None:
            registry.register(shared)
        return cls(
            registry=registry,
            shared=shared,
            http_requests=Counter(
                "peerlink_http_requests", "HTTP requests", ["route", "status"], registry=registry
            ),
            http_seconds=Histogram(
                "peerlink_http_request_seconds", "HTTP request latency", ["route"], buckets=FAST, registry=registry
            ),
            slack_ack_seconds=Histogram(
                "peerlink_slack_ack_seconds", "Time to acknowledge a Slack request", buckets=FAST, registry=registry
            ),
            deliveries=Counter(
                "peerlink_deliveries", "Outbox sends by outcome (sent, retried, rate_limited, parked)",
                ["kind", "outcome"], registry=registry,
            ),
            delivery_latency=Histogram(
                "peerlink_delivery_latency_seconds", "From a row's due time to its sending", ["kind"],
                buckets=SLOW, registry=registry,
            ),
            round_seconds=Histogram(
                "peerlink_matching_round_seconds", "Duration of a matching round", buckets=SLOW, registry=registry
            ),
            fair_turns=Counter(
                "peerlink_fair_turns", "Requests by the fair scheduler's verdict (run, refused, refused_tell)",
                ["verdict"], registry=registry,
            ),
        )  # fmt: skip

    def expose(self) -> bytes:
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        if self.shared is not None:
            combined.register(self.shared)
        return generate_latest(combined)
