"""Migrations bring an empty database to the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from learnbot.cli import main
from storage.db import create_engine
from storage.migrate import current_revisions, head_revisions, upgrade
from storage.registry import metadata
from tests.support import databases


def _diff(connection) -> list:  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_upgrade_empty_sqlite_then_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        await upgrade(engine)
        await upgrade(engine)  # a second start changes nothing
        assert await current_revisions(engine) == head_revisions()
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            assert {"people", "platform_accounts", "outbox", "dialog_states"} <= tables
            assert await connection.run_sync(_diff) == []
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            assert mode == "wal"
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_upgrade_empty_postgres_matches_models() -> None:
    url = databases.requested_url()
    assert url
    private = await databases.create_private_postgres(url)  # runs upgrade on an empty database
    engine = create_engine(private)
    try:
        await upgrade(engine)
        assert await current_revisions(engine) == head_revisions()
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
        await databases.drop_private_postgres(url, private)


def test_db_upgrade_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("database is at") and all(rev in out for rev in head_revisions())


def test_one_head() -> None:
    """Feature branches each add a migration off the core; a merge revision joins them, so
    the next migration has one parent to build on."""
    assert len(head_revisions()) == 1, head_revisions()
