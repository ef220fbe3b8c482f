"""Teams cannot be read back, so after an ambiguous answer the message kind decides: two
workers (as two replicas would) deliver a reminder and a learning-day cancellation to every
person while the Bot Connector answers 500 *after* delivering some sends. Reminders arrive
exactly once (at most once: the doubtful ones end ``unconfirmed``); cancellations arrive at
least once (the doubtful ones exactly twice); nothing that arrived is marked failed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.messages import plain
from bot.outbox import ToPerson
from scheduler.delivery import DeliveryWorker, WorkerSettings
from scheduler.ratelimit import RateLimiter, shared_store
from storage.db import dialect_name
from storage.models import OutboxMessage, Person
from tests.teams.world import TeamsWorld

PEOPLE = 30


async def test_ambiguous_answers_follow_each_kinds_policy(teams: TeamsWorld, clock: ManualClock) -> None:
    drivers = [teams.person(f"p{i}@example.org") for i in range(PEOPLE)]
    for driver in drivers:
        await driver.install()
    async with teams.app.sessions() as session, session.begin():
        dialect = dialect_name(session)
        for driver in drivers:
            person_id = await session.scalar(select(Person.id).where(Person.email == driver.email))
            assert person_id is not None
            for key in (f"nudge:{person_id}:first", f"learning-day:9:cancelled:person:{person_id}"):
                await teams.app.plan(session, destination=ToPerson(person_id), message=plain(key), key=key)
    teams.connector.fail_after_processing = 0.1
    settings = WorkerSettings.from_policy(teams.app.config.outbox)
    store = shared_store(teams.app.sessions, dialect, None)
    workers = [
        DeliveryWorker(
            teams.app.sessions,
            {"teams": teams.server.teams.deliverer},
            clock,
            settings,
            limiter=RateLimiter(store),
            name=f"replica-{n}",
        )
        for n in range(2)
    ]
    for _ in range(6):
        for worker in workers:
            await worker.drain()
        clock.advance(timedelta(minutes=1))
    teams.connector.fail_after_processing = 0.0

    async with teams.app.sessions() as session:
        rows = [
            row
            for row in await session.scalars(select(OutboxMessage))
            if row.idempotency_key.startswith(("nudge:", "learning-day:"))
        ]
    received = Counter(
        activity.get("text") or activity.get("summary") for _, activity in teams.connector.activities
    )
    doubtful = {row.idempotency_key for row in rows if row.attempts > 1 or row.status == "unconfirmed"}
    assert len(rows) == 2 * PEOPLE
    assert teams.connector.after_processing_failures >= 3, "faults were injected"
    assert any(key.startswith("learning-day:") for key in doubtful), "both kinds met a fault"
    assert any(key.startswith("nudge:") for key in doubtful)
    for row in rows:
        key = row.idempotency_key
        if key.startswith("nudge:"):
            assert received[key] == 1, key  # at most once, and the first send did arrive
            assert row.status == ("unconfirmed" if key in doubtful else "sent")
        else:
            # at least once: every attempt arrived (the fake delivers before it answers 500),
            # so a doubtful one twice, or more if its resend met a fault too
            assert received[key] == row.attempts and received[key] >= (2 if key in doubtful else 1), key
            assert row.status == "sent"
    assert not [row for row in rows if row.status == "failed"]
