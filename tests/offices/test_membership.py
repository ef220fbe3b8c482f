"""Office membership: one function, one precedence (import > directory > manager > the
person's own choice, once > default), and an upgrade that keeps everyone working."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import AppConfig
from bot.people import OfficeSource, assign_office, get_or_create_by_email, settle_offices
from storage.db import create_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Person

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
IMP, D, M, S = OfficeSource.IMPORT, OfficeSource.DIRECTORY, OfficeSource.MANAGER, OfficeSource.SELF


async def _person(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig
) -> tuple[AsyncSession, Person]:
    session = sessions()
    return session, await get_or_create_by_email(session, config, "fatou@example.org", NOW)


@pytest.mark.parametrize(
    ("first", "then", "applied"),
    [
        (IMP, D, False),  # the directory never undoes the LMS
        (IMP, M, False),  # nor does a manager: the next import would flip it back
        (IMP, S, False),
        (IMP, IMP, True),  # a later import corrects an earlier one
        (D, IMP, True),
        (D, M, False),
        (D, S, False),
        (M, IMP, True),
        (M, D, True),
        (M, M, True),
        (M, S, False),  # a manager's placement is not the person's to undo
        (S, M, True),  # a manager corrects a person's own choice
        (S, S, False),  # once
        (S, IMP, True),
    ],
)
async def test_precedence(
    sessions: async_sessionmaker[AsyncSession],
    config: AppConfig,
    first: OfficeSource,
    then: OfficeSource,
    applied: bool,
) -> None:
    session, person = await _person(sessions, config)
    async with session:
        assert person.office_id == "dakar" and person.office_source == "default"
        assert assign_office(config, person, "coxs-bazar", first, NOW).applied
        placement = assign_office(config, person, "dakar", then, NOW)
        assert placement.applied is applied
        assert person.office_id == ("dakar" if applied else "coxs-bazar")
        assert person.office_source == (then if applied else first).value
        assert placement.kept_by == (None if applied else first)


async def test_every_source_may_place_someone_unplaced(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    for source in (IMP, D, M, S, "import"):
        session, person = await _person(sessions, config)
        async with session:
            placement = assign_office(config, person, "coxs-bazar", source, NOW)
            assert placement.applied and placement.moved and placement.previous_office == "dakar"
            await session.rollback()


async def test_unknown_office_is_an_error(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    session, person = await _person(sessions, config)
    async with session:
        with pytest.raises(ValueError, match="'nairobi' is not an office"):
            assign_office(config, person, "nairobi", IMP, NOW)


async def test_settle_offices_places_people_without_a_known_office(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    async with sessions() as session, session.begin():
        for email, office in (
            ("a@example.org", None),
            ("b@example.org", "gone"),
            ("c@example.org", "coxs-bazar"),
        ):
            session.add(
                Person(email=email, office_id=office, office_source="import", created_at=NOW, updated_at=NOW)
            )
    async with sessions() as session, session.begin():
        assert await settle_offices(session, config) == 2
    async with sessions() as session:
        rows = (
            await session.execute(text("SELECT email, office_id, office_source FROM people ORDER BY email"))
        ).all()
    assert [tuple(r) for r in rows] == [
        ("a@example.org", "dakar", "default"),
        ("b@example.org", "dakar", "default"),
        ("c@example.org", "coxs-bazar", "import"),
    ]


async def test_upgrade_from_before_offices_keeps_people(tmp_path: Path) -> None:
    """A database at 0009 with people in it upgrades; they keep their office, source default."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "0009_merge"))
            await connection.execute(
                text(
                    "INSERT INTO people (email, display_name, office_id, created_at, updated_at) "
                    "VALUES ('old@example.org', 'Old Timer', 'dakar', '2026-01-01', '2026-01-01')"
                )
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT office_id, office_source FROM people"))).one()
        assert tuple(row) == ("dakar", "default")
    finally:
        await engine.dispose()
