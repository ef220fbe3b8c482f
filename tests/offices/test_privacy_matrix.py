"""Every command that shows personal data, sent from a shared channel on Slack and Teams:
nothing personal reaches the channel (no course status, no overdue names, no RSVP names, no
offers of one's own, no report), the person gets the answer privately, and the channel gets
at most a short pointer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.people import person_by_email
from storage.learning_days import LearningDay, Rsvp
from tests.nudges.helpers import assign
from tests.offices.channels import channel_posts, press_in_channel, say_in_channel
from tests.offices.conftest import DAKAR_MANAGER
from tests.support.conversation import WORLDS, ChatWorld

FATOU = "fatou.ndiaye@example.org"
PERSONAL = ("Ethics", "overdue", "due ", "Fatou", "Ndiaye", "@example.org", "RSVP", "going")


@pytest.fixture(params=["slack", "teams"])
async def shared(
    request: pytest.FixtureRequest,
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> AsyncIterator[ChatWorld]:
    __import__(f"tests.{request.param}.world")
    async with WORLDS[request.param](config, sessions, clock) as chat_world:
        yield chat_world


def assert_nothing_personal(world: ChatWorld, key: str, command: str) -> None:
    for post in channel_posts(world, key):
        leaked = [word for word in PERSONAL if word.lower() in post.lower()]
        assert not leaked, f"{command!r} in #{key} on {world.platform} leaked {leaked}: {post!r}"


STAFF_COMMANDS = [
    ("learning courses", "Ethics"),
    ("learning home", "Hi Fatou"),
    ("learning me", "Fatou"),
    ("learning office", "Dakar office"),
    ("skillshare mine", "skillshare"),
]
MANAGER_COMMANDS = [
    ("learning report", "Ethics"),
    ("learning confirm", "review"),
    ("skillshare all", ""),
    ("learning suggestions", ""),
]


@pytest.mark.parametrize(("command", "private_fragment"), STAFF_COMMANDS)
async def test_staff_commands_from_a_channel_stay_private(
    shared: ChatWorld, clock: ManualClock, command: str, private_fragment: str
) -> None:
    fatou = shared.person(FATOU, name="Fatou Ndiaye")
    await assign(shared.app, f"{FATOU},ethics,2026-11-20")
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))
    await say_in_channel(shared, FATOU, "dakar", command)
    await shared.deliver()
    await fatou.expect_reply(private_fragment)
    assert_nothing_personal(shared, "dakar", command)
    await say_in_channel(shared, FATOU, "dakar", "/" + command if shared.platform == "slack" else command)
    await shared.deliver()
    assert_nothing_personal(shared, "dakar", command)


@pytest.mark.parametrize(("command", "private_fragment"), MANAGER_COMMANDS)
async def test_manager_commands_from_a_channel_stay_private(
    shared: ChatWorld, clock: ManualClock, command: str, private_fragment: str
) -> None:
    shared.person(FATOU, name="Fatou Ndiaye")
    awa = shared.person(DAKAR_MANAGER, name="Awa Diop")
    await assign(shared.app, f"{FATOU},ethics,2026-11-20")
    await say_in_channel(shared, FATOU, "dakar", "hello")
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))
    await say_in_channel(shared, DAKAR_MANAGER, "dakar", command)
    await shared.deliver()
    await awa.expect_reply(private_fragment)
    assert_nothing_personal(shared, "dakar", command)


async def _dakar_day_with_fatou_going(world: ChatWorld) -> int:
    now = world.app.clock.now()
    async with world.app.sessions() as session, session.begin():
        day = LearningDay(
            office_id="dakar",
            timezone="Africa/Dakar",
            date=date(2026, 12, 17),
            start_time=time(9, 0),
            end_time=time(17, 0),
            title="Dakar learning day",
            status="scheduled",
            version=1,
            created_at=now,
        )
        session.add(day)
        await session.flush()
        fatou = await person_by_email(session, FATOU)
        assert fatou is not None
        session.add(Rsvp(day_id=day.id, person_id=fatou.id, answer="going", updated_at=now))
        return day.id


async def test_rsvp_names_never_reach_the_channel(shared: ChatWorld, clock: ManualClock) -> None:
    fatou = shared.person(FATOU, name="Fatou Ndiaye")
    awa = shared.person(DAKAR_MANAGER, name="Awa Diop")
    await say_in_channel(shared, FATOU, "dakar", "hello")
    fatou.outputs.clear()  # the help (privately on Slack, in the channel on Teams: not personal)
    shared.posts.clear()
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))
    day_id = await _dakar_day_with_fatou_going(shared)
    await press_in_channel(shared, FATOU, "dakar", "day.rsvp", f"{day_id}:maybe")
    await shared.deliver()
    await fatou.expect_reply("Thanks, noted")
    assert_nothing_personal(shared, "dakar", "RSVP button")
    await say_in_channel(shared, FATOU, "dakar", "learning days")
    await shared.deliver()
    await fatou.expect_eventually("Dakar learning day")  # after Slack's pointer to the DM
    assert_nothing_personal(shared, "dakar", "learning days")
    await say_in_channel(shared, DAKAR_MANAGER, "dakar", f"learning day who {day_id}")
    await shared.deliver()
    await awa.expect_eventually("Fatou")
    assert_nothing_personal(shared, "dakar", "learning day who")
