"""Engine and session set-up for SQLite (the embedded default) and PostgreSQL.

Sessions are created by the caller from the factory returned here and passed explicitly to
whatever needs them; nothing in this module holds state.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///learnbot.db"


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``, ``sqlite:///x.db``)
    and pick the async driver Learnbot ships with."""
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
    if parsed.drivername in {"postgresql", "postgresql+psycopg2", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the console/worker read while another task writes; the busy timeout makes
    # writers wait for each other instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def dialect_name(session: AsyncSession) -> str:
    """``"postgresql"`` or ``"sqlite"``: the few queries that differ (SKIP LOCKED, upserts) ask."""
    return session.get_bind().dialect.name


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class DatabaseUnreachable(RuntimeError):
    """The database could not be reached: one line saying where and how to fix it, instead of
    a driver traceback."""


CONNECT_SECONDS = 10.0


async def ensure_reachable(engine: AsyncEngine) -> None:
    """Connect once (``SELECT 1``), or raise ``DatabaseUnreachable`` naming the URL (without
    its password), the driver's reason and the fix."""
    import asyncio

    url = engine.url.render_as_string(hide_password=True)
    try:
        async with asyncio.timeout(CONNECT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (DBAPIError, OSError, TimeoutError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        first = reason[0] if reason else type(exc).__name__
        if engine.dialect.name == "sqlite":
            fix = "check that the directory exists and is writable, or set DATABASE_URL"
        else:
            fix = (
                "start PostgreSQL or set DATABASE_URL to one that is reachable "
                "(postgresql://user:password@host:5432/dbname)"
            )
        raise DatabaseUnreachable(f"cannot reach the database at {url}: {first}. Fix: {fix}.") from None
