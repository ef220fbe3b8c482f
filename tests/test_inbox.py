"""The inbox: a request written before the ack is processed exactly once, by whichever process
holds it, also when the process that took it died before, during or after the core's work."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.core import Learnbot
from bot.errors import Abandoned
from bot.events import Actor, Conversation, MessageReceived
from bot.messages import Message
from scheduler.inbox import LEASE, MAX_ATTEMPTS, Inbox, InboxJob, InboxWorker
from storage.models import DialogState, InboxItem, InboxStatus

PLATFORM = "console"


def _event(job: InboxJob) -> MessageReceived:
    return MessageReceived(
        actor=Actor(platform=PLATFORM, user_id=job.payload["user"], email=job.payload["user"]),
        conversation=Conversation(id=job.payload["user"]),
        event_id=job.payload.get("event_id"),
        text=job.payload["text"],
    )


class Recorder:
    """A processor like the adapters': core once (with the inbox's hook), then the replies."""

    def __init__(self, app: Learnbot) -> None:
        self.app = app
        self.shown: list[str] = []
        self.core_calls = 0

    async def __call__(self, job: InboxJob) -> None:
        if job.replies is None:
            self.core_calls += 1
            replies = await self.app.handle(_event(job), record=job.record)
        else:
            replies = job.replies
        replies = await job.answered(replies)
        for index in range(job.replies_sent, len(replies)):
            self.shown.append(replies[index].text)
            await job.sent(index + 1)


async def _put(inbox: Inbox, key: str, text: str, user: str = "ana@example.org") -> None:
    assert await inbox.put(PLATFORM, "message", key, user, {"user": user, "text": text, "event_id": key})


async def _status(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = await session.scalars(select(InboxItem).order_by(InboxItem.id))
        return [(row.status, row.replies_sent) for row in rows]


async def test_a_platform_retry_is_not_a_second_row(app: Learnbot, clock: ManualClock) -> None:
    inbox = Inbox(app.sessions, clock)
    await _put(inbox, "Ev1", "/skillshare offer")
    assert not await inbox.put(PLATFORM, "message", "Ev1", "x", {"user": "x", "text": "again"})
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 1


async def test_a_row_taken_by_a_process_that_died_is_processed_by_another_after_its_lease(
    app: Learnbot, clock: ManualClock
) -> None:
    dead = Inbox(app.sessions, clock, name="dead")
    await _put(dead, "Ev1", "/skillshare offer")
    [_taken] = await dead.claim([PLATFORM], 8)  # ... and the process is killed here
    other = InboxWorker(Inbox(app.sessions, clock, name="other"), {PLATFORM: (recorder := Recorder(app))})
    assert await other.run_once() == 0, "its lease still holds"
    clock.advance(LEASE + timedelta(seconds=1))
    await other.idle()
    assert recorder.core_calls == 1
    assert recorder.shown and "What would you like to teach?" in recorder.shown[0]
    assert await _status(app.sessions) == [(InboxStatus.DONE, 1)]


async def test_a_crash_after_the_core_committed_sends_the_stored_replies_without_handling_again(
    app: Learnbot, clock: ManualClock
) -> None:
    dead = Inbox(app.sessions, clock, name="dead")
    await _put(dead, "Ev1", "/skillshare offer")
    [job] = await dead.claim([PLATFORM], 8)
    replies = await app.handle(_event(job), record=job.record)  # committed with the replies
    assert replies  # ... and the process is killed before sending them
    clock.advance(LEASE + timedelta(seconds=1))
    recorder = Recorder(app)
    await InboxWorker(Inbox(app.sessions, clock, name="other"), {PLATFORM: recorder}).idle()
    assert recorder.core_calls == 0, "the core's work is not done twice"
    assert [m for m in recorder.shown] == [r.text for r in replies]
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DialogState)) == 1


async def test_a_process_that_lost_its_lease_rolls_back_instead_of_doing_it_twice(
    app: Learnbot, clock: ManualClock
) -> None:
    slow = Inbox(app.sessions, clock, name="slow")
    await _put(slow, "Ev1", "/skillshare offer")
    [late] = await slow.claim([PLATFORM], 8)
    clock.advance(LEASE + timedelta(seconds=1))
    recorder = Recorder(app)
    await InboxWorker(Inbox(app.sessions, clock, name="other"), {PLATFORM: recorder}).idle()
    late.payload["event_id"] = None  # even without the core's event-id check
    try:
        await app.handle(_event(late), record=late.record)
    except Abandoned:
        pass
    else:
        raise AssertionError("the hook should have refused: another process took the row")
    assert recorder.core_calls == 1
    assert await _status(app.sessions) == [(InboxStatus.DONE, 1)]


async def test_a_persons_rows_are_taken_one_at_a_time_in_order(app: Learnbot, clock: ManualClock) -> None:
    inbox = Inbox(app.sessions, clock)
    await _put(inbox, "Ev1", "/skillshare offer")
    await _put(inbox, "Ev2", "Excel pivot tables")
    await _put(inbox, "Ev3", "help", user="ben@example.org")
    taken = await inbox.claim([PLATFORM], 8)
    assert sorted(job.payload["text"] for job in taken) == ["/skillshare offer", "help"]
    assert await inbox.claim([PLATFORM], 8) == []
    for job in taken:
        await inbox.finish(job)
    [second] = await inbox.claim([PLATFORM], 8)
    assert second.payload["text"] == "Excel pivot tables"


async def test_a_request_that_keeps_failing_is_set_aside_not_blocking_the_next(
    app: Learnbot, clock: ManualClock
) -> None:
    inbox = Inbox(app.sessions, clock)
    await _put(inbox, "Ev1", "poison")
    await _put(inbox, "Ev2", "help")
    seen: list[str] = []

    async def processor(job: InboxJob) -> None:
        seen.append(job.payload["text"])
        if job.payload["text"] == "poison":
            raise RuntimeError("boom")
        await job.answered([Message(text="ok")])

    await InboxWorker(inbox, {PLATFORM: processor}).idle()
    assert seen == ["poison"] * MAX_ATTEMPTS + ["help"]
    async with app.sessions() as session:
        rows = list(await session.scalars(select(InboxItem).order_by(InboxItem.id)))
    assert [row.status for row in rows] == [InboxStatus.FAILED, InboxStatus.DONE]
    assert "RuntimeError: boom" in (rows[0].last_error or "")
