"""Pacing by arrival: a window counts sends in flight and remembers them by response time."""

from __future__ import annotations

import asyncio

from adapters.teams.pacing import ArrivalPacer
from scheduler.ratelimit import Limit


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_full_window_waits_for_the_oldest_answer() -> None:
    clock = FakeTime()
    pacer = ArrivalPacer(clock)
    limit = [Limit("c", 2, 1.0)]
    for _ in range(2):
        async with pacer.slot(limit):
            clock.now += 0.1  # the request takes 100 ms; it counts from its answer
    assert abs(pacer._wait(limit) - 0.9) < 1e-9  # the first answer (at 100.1) leaves the window at 101.1
    clock.now = 101.1
    assert pacer._wait(limit) == 0


async def test_sends_in_flight_hold_their_slot() -> None:
    clock = FakeTime()
    pacer = ArrivalPacer(clock)
    limit = [Limit("c", 1, 1.0)]
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow_send() -> None:
        async with pacer.slot(limit):
            entered.set()
            await release.wait()

    task = asyncio.create_task(slow_send())
    await entered.wait()
    assert pacer._wait(limit) > 0  # nothing answered yet, but the one slot is taken
    release.set()
    await task
    assert pacer._wait(limit) == 1.0


async def test_pause_closes_the_bucket() -> None:
    clock = FakeTime()
    pacer = ArrivalPacer(clock)
    pacer.pause("c", 3.0)
    assert pacer._wait([Limit("c", 7, 1.0)]) == 3.0
