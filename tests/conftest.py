"""Shared fixtures: a migrated database per test (SQLite by default, PostgreSQL when
``DATABASE_URL`` says so), an injected clock, the test configuration and the app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import AppConfig, parse_config
from bot.core import Learnbot, RecordReplies
from bot.events import Event
from bot.features import FEATURES
from bot.messages import Message, plain
from bot.outbox import Destination, Planned
from storage.db import create_engine, session_factory
from tests.support import databases
from tests.support.conversation import (
    WORLDS,
    ChatWorld,
    ConsoleDriver,
    ConsoleWorld,
    assert_nothing_unexpected,
)

FIXTURES = Path(__file__).parent / "fixtures"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday


SCENARIO_FIXTURES = frozenset({"world", "chat"})
"""A test that drives people through the bot with these fixtures is a conversation scenario."""

STRAY_MESSAGE_MUTATION = "LEARNBOT_TEST_STRAY_MESSAGE"
"""When set to 1, the bot says one unexpected message before every reply and before every
proactive message (the mutation check in ``tests/test_strict_scenarios.py``): every conversation
scenario must then fail."""

STRAY = "A stray message no scenario expects."


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark conversation scenarios (``-m scenario``), and leave tests out of the pass they don't
    belong to: ``@pytest.mark.postgres`` tests need PostgreSQL and run only in the PostgreSQL
    pass of the test command; ``@pytest.mark.sqlite_pass`` tests (checks of the test suite itself)
    run only in the SQLite pass. Left out, not skipped."""
    for item in items:
        if SCENARIO_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.scenario)
    wrong_pass = "sqlite_pass" if databases.on_postgres() else "postgres"
    kept = [item for item in items if item.get_closest_marker(wrong_pass) is None]
    left_out = [item for item in items if item.get_closest_marker(wrong_pass) is not None]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(autouse=True)
def stray_message_mutation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test-only hook of the mutation check: one stray message before every reply and
    before every message planned through the outbox (direct messages and channel posts)."""
    if os.environ.get(STRAY_MESSAGE_MUTATION) != "1":
        return
    handle, plan = Learnbot.handle, Learnbot.plan

    async def handle_with_a_stray_reply(
        self: Learnbot, event: Event, *, record: RecordReplies | None = None
    ) -> list[Message]:
        async def record_with_a_stray_reply(session: AsyncSession, replies: list[Message]) -> None:
            assert record is not None  # the inbox stores the replies the adapters will send
            await record(session, [plain(STRAY), *replies] if replies else replies)

        replies = await handle(self, event, record=record_with_a_stray_reply if record else None)
        return [plain(STRAY), *replies] if replies else replies

    async def plan_after_a_stray_message(
        self: Learnbot,
        session: AsyncSession,
        *,
        destination: Destination,
        message: Message,
        key: str,
        not_before: datetime | None = None,
    ) -> list[Planned]:
        stray = {"destination": destination, "not_before": not_before}
        await plan(self, session, message=plain(STRAY), key=f"stray:{key}", **stray)
        return await plan(self, session, message=message, key=key, **stray)

    monkeypatch.setattr(Learnbot, "handle", handle_with_a_stray_reply)
    monkeypatch.setattr(Learnbot, "plan", plan_after_a_stray_message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    url = databases.requested_url()
    if not url or not databases.on_postgres():
        yield None
        return
    try:
        private = databases.run(databases.create_private_postgres(url))
    except Exception as exc:  # any connection or permission failure
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"PostgreSQL at {url} is required under CI: {exc}") from exc
        # Only a developer without PostgreSQL gets here; the SQLite pass has already run.
        pytest.skip(f"PostgreSQL at {url} is not reachable ({exc}); start it or unset DATABASE_URL")
    yield private
    databases.run(databases.drop_private_postgres(url, private))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    databases.run(databases.make_sqlite_template(path))
    return path


@pytest.fixture
def database_url(postgres_url: str | None, sqlite_template: Path, tmp_path: Path) -> str:
    if postgres_url:
        return postgres_url
    return databases.sqlite_copy(sqlite_template, tmp_path / "learnbot.db")


@pytest.fixture
async def engine(database_url: str, postgres_url: str | None) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    if postgres_url:
        await databases.truncate_all(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def config_data() -> dict:
    return yaml.safe_load((FIXTURES / "app.yaml").read_text())


@pytest.fixture
def config(config_data: dict) -> AppConfig:
    return parse_config(config_data)


@pytest.fixture
def app(config: AppConfig, sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Learnbot:
    return Learnbot(config, sessions, clock=clock, platforms=("console",), features=FEATURES)


@pytest.fixture
def chat(app: Learnbot) -> Iterator[ConsoleDriver]:
    """Ana at the console (single-person tests)."""
    console = ConsoleWorld(app)
    yield console.person("ana@example.org")
    assert_nothing_unexpected(console)


def _world_platforms() -> list[str]:
    # Importing the platform test support registers its world factory in WORLDS.
    for module in PLATFORM_TEST_SUPPORT:
        __import__(module)
    return sorted(WORLDS)


PLATFORM_TEST_SUPPORT: tuple[str, ...] = ("tests.slack.world", "tests.teams.world")
"""Modules such as ``tests.slack.fake`` that register a world for their platform."""


@pytest.fixture(params=_world_platforms())
async def world(
    request: pytest.FixtureRequest,
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> AsyncIterator[ChatWorld]:
    """The same scenario on every platform: the console, the Slack fake and the Teams fake."""
    async with WORLDS[request.param](config, sessions, clock) as chat_world:
        yield chat_world
        assert_nothing_unexpected(chat_world)
