"""The outbox dispatcher: claims due deliveries, sends them through the platform's Notifier, and
records what happened — on time, at the platforms' rates, and at most once outside one small window.

Claiming. A row is due when it is `pending`, `due_at <= now` and `next_attempt_at` is empty or past.
One statement claims a batch: `UPDATE … SET status='sending', claimed_until=now+lease,
attempts=attempts+1 WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING …`. On
PostgreSQL the sub-select skips rows another worker is claiming at that moment; on SQLite the one
UPDATE is atomic (SQLite has one writer at a time). A row left in `sending` by a worker that died is
claimed again once its lease (`claimed_until`) has passed.

Sending. Each row is sent, then its result is committed at once in its own transaction.

**The duplicate window.** A message can be delivered twice only if the worker dies (or loses the
database) after the platform accepted the message and before the commit that marks the row `sent`:
after the lease expires the row is claimed and sent again. The window is the time between the
platform's answer and our commit (a few milliseconds), times the number of messages in flight when
the process dies (at most `max_in_flight`). Slack and Telegram offer no idempotency key for
posting a message, so this window cannot be closed from our side; it is kept minimal by committing
right after each send, never per batch. A lease that expired while its worker still held the row
would also allow a repeat, so a row is sent only while its lease outlives the send timeout (else it
is given back unsent), and a send still hanging after `send_timeout` counts as failed.

Errors. `DeliveryError(retry_after=…)` (a 429) delays the row and holds its rates without counting
an attempt; other errors retry with exponential backoff; after `max_attempts` the row is parked and
the community's facilitators get a notice. `DeliveryError(permanent=True)` parks at once; Telegram's
"forbidden" (never opened the bot, or blocked it) goes to `bot.reachability.mark_unreachable`.

Rates. Rows are spaced under the platforms' limits (schedules/rates.py): the tick plans each row's
slot locally, and right before sending the worker takes its turn in the rate bookings every worker
shares, one send at a time per chat, so several workers together keep every limit and a chat's
messages leave in order.

Downtime. A due row whose `valid_until` has passed (a reminder after its meeting began) is skipped
with a logged reason; anything else that fell due while the worker was down is sent late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from bot.backoff import backoff
from bot.deliveries import payload_to_reply
from bot.deps import Deps
from bot.log_context import about
from bot.notices import notify_member, text_for
from bot.ports import SEND_TIMEOUT, Address, DeliveryError, Platform, SentRef
from bot.reachability import mark_unreachable
from bot.roles import facilitators
from schedules.rates import Limiter, Rate, RateGate, platform_rates
from storage.db import transaction
from storage.models import Delivery, DeliveryStatus
from storage.queries import claim_rows

log = logging.getLogger(__name__)

NOTICE = "notice"
FORBIDDEN = "forbidden"
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    batch_size: int = 100
    lease: timedelta = timedelta(minutes=3)
    horizon: timedelta = timedelta(seconds=20)  # how far ahead one tick books rate-limited slots
    max_attempts: int = 6
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    max_in_flight: int = 8
    send_timeout: timedelta = SEND_TIMEOUT  # a send still hanging then is retried later

    def backoff(self, attempts: int) -> timedelta:
        return backoff(attempts, base=self.backoff_base, cap=self.backoff_cap)


@dataclass
class TickReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    parked: int = 0
    skipped: int = 0
    released: int = 0
    sent_ids: list[int] = field(default_factory=list)


def _due(now: datetime) -> ColumnElement[bool]:
    pending = and_(
        col(Delivery.status) == DeliveryStatus.pending,
        col(Delivery.due_at) <= now,
        or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
    )
    abandoned = and_(col(Delivery.status) == DeliveryStatus.sending, col(Delivery.claimed_until) < now)
    return or_(pending, abandoned)


def skip_expired(session: Session, *, now: datetime) -> int:
    """Due rows no longer useful (past `valid_until`) are skipped, each with a logged reason."""
    rows = session.scalars(
        update(Delivery)
        .where(_due(now), col(Delivery.valid_until).is_not(None), col(Delivery.valid_until) <= now)
        .values(status=DeliveryStatus.skipped, claimed_until=None, last_error="expired before it could be sent")
        .returning(Delivery)
    ).all()
    for row in rows:
        log.warning(
            "skipped %s %s: due %s, useful only until %s (the worker was down or behind)",
            row.kind,
            row.dedupe_key,
            row.due_at.isoformat(),
            row.valid_until.isoformat() if row.valid_until else "-",
        )
    return len(rows)


def claim(session: Session, *, now: datetime, platforms: Sequence[str], policy: OutboxPolicy) -> list[Delivery]:
    """Claim up to `batch_size` due rows for the platforms we can send to (see module docstring)."""
    abandoned = session.exec(
        select(Delivery.dedupe_key).where(
            col(Delivery.status) == DeliveryStatus.sending, col(Delivery.claimed_until) < now
        )
    ).all()
    for key in abandoned:
        log.warning("claiming %s again after its lease expired (a worker died mid-send?)", key)
    rows = claim_rows(
        session,
        Delivery,
        due=and_(_due(now), col(Delivery.platform).in_(platforms)),
        values={
            "status": DeliveryStatus.sending,
            "claimed_until": now + policy.lease,
            "attempts": col(Delivery.attempts) + 1,
        },
        order_by=(col(Delivery.due_at), col(Delivery.id)),
        limit=policy.batch_size,
    )
    return sorted(rows, key=lambda row: (row.due_at, row.id or 0))


def _address(row: Delivery) -> Address:
    platform: Platform = row.platform  # type: ignore[assignment]
    return Address(platform=platform, workspace=row.workspace, chat=row.chat)


def _parts(row: Delivery) -> int:
    """Platform messages a row makes: a text with a file is two, and each counts against a limit."""
    reply = payload_to_reply(row.payload)
    return 2 if reply.attachment is not None and reply.text else 1


def _set(session: Session, row_id: int | None, **values: object) -> None:
    session.execute(update(Delivery).where(col(Delivery.id) == row_id).values(**values))


class Dispatcher:
    """One worker's sender. `tick()` is the `dispatch_outbox` job: claim, pace, send, record."""

    def __init__(
        self,
        deps: Deps,
        *,
        policy: OutboxPolicy | None = None,
        limiter: Limiter | None = None,
        gate: RateGate | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.deps = deps
        self.policy = policy or OutboxPolicy()
        self.limiter = limiter or Limiter()
        self.gate = gate or RateGate(deps.sessions)
        self.sleep = sleep
        self._chats: dict[str, tuple[asyncio.Lock, int]] = {}  # per chat: its lock, and who holds or awaits it

    def _rates(self, row: Delivery) -> tuple[Rate, ...]:
        return platform_rates(row.platform, row.workspace, row.chat)

    async def tick(self) -> TickReport:
        report = TickReport()
        platforms = sorted(self.deps.notifiers)
        if not platforms:
            return report
        now = self.deps.clock.now()
        with transaction(self.deps.sessions) as session:
            report.skipped += skip_expired(session, now=now)
            rows = claim(session, now=now, platforms=platforms, policy=self.policy)
        report.claimed = len(rows)
        await self._send_all(self._book(rows, now, report), report)
        return report

    async def drain(self, *, max_ticks: int = 1_000_000) -> TickReport:
        """Tick until nothing is due now (tests, benchmarks, `digest now` in the console)."""
        total = TickReport()
        for _ in range(max_ticks):
            report = await self.tick()
            for name in ("claimed", "sent", "retried", "parked", "skipped", "released"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.sent_ids.extend(report.sent_ids)
            if report.claimed == 0:
                break
        return total

    def _book(self, rows: Sequence[Delivery], now: datetime, report: TickReport) -> list[tuple[datetime, Delivery]]:
        """Give each row its slot under its rates; rows beyond the horizon go back until their slot."""
        booked: list[tuple[datetime, Delivery]] = []
        later: list[tuple[Delivery, datetime]] = []
        for row in rows:
            rates = self._rates(row)
            slot = self.limiter.earliest(rates, now)
            if slot > now + self.policy.horizon:
                later.append((row, slot))
                continue
            self.limiter.book(rates, slot, parts=_parts(row))
            booked.append((slot, row))
        if later:
            with transaction(self.deps.sessions) as session:
                for row, slot in later:
                    self._release(session, row, at=slot)
            report.released += len(later)
        booked.sort(key=lambda item: item[0])
        return booked

    @staticmethod
    def _release(session: Session, row: Delivery, *, at: datetime) -> None:
        """Give a claimed row back, unsent and without counting the attempt."""
        _set(
            session,
            row.id,
            status=DeliveryStatus.pending,
            claimed_until=None,
            next_attempt_at=at,
            attempts=col(Delivery.attempts) - 1,
        )

    async def _send_all(self, booked: Sequence[tuple[datetime, Delivery]], report: TickReport) -> None:
        in_flight = asyncio.Semaphore(self.policy.max_in_flight)
        tasks: list[asyncio.Task[None]] = []
        for slot, row in booked:
            delay = (slot - self.deps.clock.now()).total_seconds()
            if delay > 0:
                await self.sleep(delay)
            await in_flight.acquire()
            tasks.append(asyncio.create_task(self._deliver(row, in_flight, report)))
            await asyncio.sleep(0)  # let it start at its slot
        await asyncio.gather(*tasks)

    async def _deliver(self, row: Delivery, in_flight: asyncio.Semaphore, report: TickReport) -> None:
        try:
            with about(platform=row.platform, community=row.community_id, delivery=row.id):
                await self._deliver_one(row, report)
        finally:
            in_flight.release()

    async def _deliver_one(self, row: Delivery, report: TickReport) -> None:
        now = self.deps.clock.now()
        rates = self._rates(row)
        if row.valid_until is not None and row.valid_until <= now:
            log.warning("skipped %s: its slot came after %s", row.dedupe_key, row.valid_until.isoformat())
            with transaction(self.deps.sessions) as session:
                _set(session, row.id, status=DeliveryStatus.skipped, claimed_until=None, last_error="expired")
            report.skipped += 1
            return
        if not self._lease_holds(row, now, report):
            return
        held = self.limiter.held_until(rates, now)
        if held > now:  # a 429 earlier in this tick: wait with the rest of that chat
            with transaction(self.deps.sessions) as session:
                self._release(session, row, at=held)
            report.released += 1
            return
        async with self._chat_turn(f"{row.platform}:{row.workspace}:{row.chat}"):
            await self._take_turn(row, rates)
            if self._lease_holds(row, self.deps.clock.now(), report):
                await self._send(row, rates, report)

    @asynccontextmanager
    async def _chat_turn(self, chat: str) -> AsyncIterator[None]:
        """One send at a time per chat, in the order the rows were planned; forgotten when idle."""
        lock, users = self._chats.get(chat, (asyncio.Lock(), 0))
        self._chats[chat] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._chats[chat]
            if users == 1:
                del self._chats[chat]
            else:
                self._chats[chat] = (lock, users - 1)

    async def _take_turn(self, row: Delivery, rates: Sequence[Rate]) -> None:
        """Wait until every worker together leaves room under the row's rates, and take it."""
        while (moment := self.gate.take(rates, self.deps.clock.now(), parts=_parts(row))) is not None:
            await self.sleep((moment - self.deps.clock.now()).total_seconds())

    async def _send(self, row: Delivery, rates: Sequence[Rate], report: TickReport) -> None:
        notifier = self.deps.notifiers[row.platform]
        try:
            async with asyncio.timeout(self.policy.send_timeout.total_seconds()):  # no extra task
                sent = await notifier.send(_address(row), payload_to_reply(row.payload))
        except DeliveryError as error:
            self._failed(row, error, rates, report)
            return
        except TimeoutError:
            timeout = self.policy.send_timeout.total_seconds()
            self._failed(row, DeliveryError(f"no answer within {timeout:g} s"), rates, report)
            return
        except Exception as error:  # any failure of a platform call is retried like a DeliveryError
            log.exception("sending %s failed", row.dedupe_key)
            self._failed(row, DeliveryError(f"{type(error).__name__}: {error}"[:300]), rates, report)
            return
        self._sent(row, sent)
        report.sent += 1
        report.sent_ids.append(row.id or 0)

    def _lease_holds(self, row: Delivery, now: datetime, report: TickReport) -> bool:
        """Send only while our claim outlives the send: an expired claim may be another worker's."""
        left = (row.claimed_until or now) - now
        if left <= timedelta(0):
            log.warning("not sending %s: its lease ran out before its turn", row.dedupe_key)
            return False
        if left < self.policy.send_timeout:
            with transaction(self.deps.sessions) as session:
                self._release(session, row, at=now)
            report.released += 1
            return False
        return True

    def _sent(self, row: Delivery, sent: SentRef) -> None:
        now = self.deps.clock.now()
        # Committed right away: this commit closes the duplicate window (module docstring).
        with transaction(self.deps.sessions) as session:
            _set(
                session,
                row.id,
                status=DeliveryStatus.sent,
                sent_at=now,
                message_id=sent.message_id[:64],
                claimed_until=None,
                last_error=None,
            )
        self._count(row, "sent")
        self.deps.metrics.delivery_latency.labels(kind=row.kind).observe(max(0.0, (now - row.due_at).total_seconds()))

    def _count(self, row: Delivery, outcome: str) -> None:
        self.deps.metrics.deliveries.labels(kind=row.kind, outcome=outcome).inc()

    def _failed(self, row: Delivery, error: DeliveryError, rates: Sequence[Rate], report: TickReport) -> None:
        now = self.deps.clock.now()
        reason = error.reason[:500]
        with transaction(self.deps.sessions) as session:
            if error.retry_after is not None and not error.permanent:
                until = now + timedelta(seconds=max(0.0, error.retry_after))
                self.limiter.hold(rates, until)
                self.gate.hold(rates, until)
                self._release(session, row, at=until)
                _set(session, row.id, last_error=reason)
                log.info("%s rate-limited: retry after %.1fs", row.dedupe_key, error.retry_after)
                self._count(row, "rate_limited")
                report.retried += 1
            elif error.permanent or row.attempts >= self.policy.max_attempts:
                self._park(session, row, reason, now, permanent=error.permanent)
                self._count(row, "parked")
                report.parked += 1
            else:
                at = now + self.policy.backoff(row.attempts)
                _set(
                    session,
                    row.id,
                    status=DeliveryStatus.pending,
                    claimed_until=None,
                    next_attempt_at=at,
                    last_error=reason,
                )
                log.info("%s failed (%s), attempt %d; next at %s", row.dedupe_key, reason, row.attempts, at)
                self._count(row, "retried")
                report.retried += 1

    def _park(self, session: Session, row: Delivery, reason: str, now: datetime, *, permanent: bool) -> None:
        fresh = session.get(Delivery, row.id)
        assert fresh is not None
        if permanent and row.platform == "telegram" and reason == FORBIDDEN:
            mark_unreachable(session, fresh, now=now)  # it waits until the member opens the bot
            return
        fresh.status = DeliveryStatus.parked
        fresh.claimed_until = None
        fresh.last_error = reason
        session.add(fresh)
        log.error("parked %s after %d attempts: %s", row.dedupe_key, row.attempts, reason)
        if row.kind != NOTICE:
            tell_facilitators(session, fresh, now=now)


def tell_facilitators(session: Session, row: Delivery, *, now: datetime) -> int:
    """A notice to each facilitator of the row's community that a message could not be delivered."""
    if row.community_id is None:
        return 0
    told = 0
    write = text_for(
        "schedules.notice_parked",
        kind=row.kind,
        target=f"{row.platform}:{row.chat}",
        count=row.attempts,
        error=row.last_error or "",
    )
    for member in facilitators(session, row.community_id):
        planned = notify_member(
            session,
            member.id or 0,
            write,
            dedupe_key=f"notice:parked:{row.id}:{member.id}",
            kind=NOTICE,
            due_at=now,
            community_id=row.community_id,
        )
        told += planned is not None
    if not told:
        log.warning(
            "no facilitator of community %s could be told that %s was parked",
            row.community_id,
            row.dedupe_key,
        )
    return told
