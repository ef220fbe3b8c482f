"""Test databases: a fresh SQLite file per test, or a private PostgreSQL database per run.

``DATABASE_URL`` selects PostgreSQL. The run creates its own database next to the one named
(``CREATE DATABASE learnbot_test_<pid>_<random>``) so parallel runs never share tables, and
drops it afterwards. Under ``CI=true`` an unreachable PostgreSQL is an error, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, is_postgres, normalise_url
from storage.migrate import upgrade
from storage.registry import metadata


def requested_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "").strip()
    return normalise_url(url) if url else None


def on_postgres() -> bool:
    url = requested_url()
    return bool(url and is_postgres(url))


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def create_private_postgres(url: str) -> str:
    name = f"learnbot_test_{os.getpid()}_{secrets.token_hex(3)}"
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    private = make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(private)
    await upgrade(engine)
    await engine.dispose()
    return private


async def drop_private_postgres(url: str, private: str) -> None:
    name = make_url(private).database
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def make_sqlite_template(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    async with engine.begin() as conn:
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    await engine.dispose()


def sqlite_copy(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


async def truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)
