"""Fair turns: one person's flood neither delays nor starves another person; budgets refuse early."""

from __future__ import annotations

import asyncio

from bot.fairness import FairScheduler, Limits, Turn


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def _hold(scheduler: FairScheduler, key: str, started: list[str], release: asyncio.Event, tag: str) -> Turn:
    async with scheduler.turn(key) as turn:
        if turn is Turn.run:
            started.append(tag)
            await release.wait()
        return turn


async def test_a_flood_does_not_hold_up_another_person() -> None:
    scheduler = FairScheduler(Limits(queued=50, per_minute=100, overall=2))
    release, started = asyncio.Event(), []
    flood = [asyncio.create_task(_hold(scheduler, "slack:T:flood", started, release, f"f{i}")) for i in range(20)]
    await asyncio.sleep(0)
    other_done = asyncio.Event()

    async def other() -> None:
        async with scheduler.turn("telegram:7") as turn:
            assert turn is Turn.run
            other_done.set()

    await asyncio.wait_for(other(), timeout=30)  # runs while the whole flood is still waiting
    assert other_done.is_set()
    assert started == ["f0"]  # the flooder runs one at a time
    release.set()
    await asyncio.gather(*flood)
    assert started == [f"f{i}" for i in range(20)]  # in the order they came


async def test_at_most_overall_run_at_once() -> None:
    scheduler = FairScheduler(Limits(overall=2))
    release, started = asyncio.Event(), []
    tasks = [asyncio.create_task(_hold(scheduler, f"p{i}", started, release, f"p{i}")) for i in range(3)]
    for _ in range(20):  # let every task reach its turn; nothing here waits on I/O
        await asyncio.sleep(0)
    assert started == ["p0", "p1"]
    release.set()
    await asyncio.gather(*tasks)
    assert started == ["p0", "p1", "p2"]


async def test_a_full_queue_refuses_and_tells_once() -> None:
    scheduler = FairScheduler(Limits(queued=2, per_minute=100))
    release, started = asyncio.Event(), []
    running = [asyncio.create_task(_hold(scheduler, "me", started, release, str(i))) for i in range(3)]
    await asyncio.sleep(0)  # one runs, two wait: the queue is full
    verdicts = [await _hold(scheduler, "me", started, release, "x") for _ in range(3)]
    assert verdicts == [Turn.refused_tell, Turn.refused, Turn.refused]
    release.set()
    assert await asyncio.gather(*running) == [Turn.run] * 3


async def test_the_budget_per_minute_and_per_hour() -> None:
    clock = Clock()
    scheduler = FairScheduler(Limits(per_minute=3, per_hour=5), now=clock)
    release = asyncio.Event()
    release.set()

    async def one() -> Turn:
        return await _hold(scheduler, "me", [], release, "")

    assert [await one() for _ in range(4)] == [Turn.run] * 3 + [Turn.refused_tell]
    clock.now += 61
    assert [await one() for _ in range(3)] == [Turn.run, Turn.run, Turn.refused_tell]  # 5 an hour
    clock.now += 3600
    assert await one() is Turn.run
    assert await _hold(scheduler, "someone else", [], release, "") is Turn.run


async def test_a_cancelled_wait_leaves_no_trace() -> None:
    scheduler = FairScheduler(Limits(queued=1))
    release, started = asyncio.Event(), []
    first = asyncio.create_task(_hold(scheduler, "me", started, release, "1"))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(_hold(scheduler, "me", started, release, "2"))
    await asyncio.sleep(0)
    waiting.cancel()
    release.set()
    await first
    assert (await asyncio.gather(waiting, return_exceptions=True))[0].__class__ is asyncio.CancelledError
    assert await _hold(scheduler, "me", started, release, "3") is Turn.run


async def test_a_turn_entered_is_held_until_released() -> None:
    """Slack holds a person's turn across a listener's whole work (`enter`), released when it ends."""
    counted: list[Turn] = []
    scheduler = FairScheduler(Limits(queued=1, per_minute=100), counted=counted.append)
    verdict, release = await scheduler.enter("me")
    assert verdict is Turn.run
    second = asyncio.create_task(scheduler.enter("me"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not second.done()  # waits for the first to be released
    assert (await scheduler.enter("me"))[0] is Turn.refused_tell  # one waiting is the most
    async with scheduler.turn("someone else") as other:
        assert other is Turn.run  # never behind another person
    release()
    release()  # a second release changes nothing
    verdict, release_second = await asyncio.wait_for(second, timeout=30)
    assert verdict is Turn.run
    release_second()
    assert counted == [Turn.run, Turn.run, Turn.refused_tell, Turn.run]
    assert (await scheduler.enter("me"))[0] is Turn.run
