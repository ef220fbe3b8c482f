"""Alembic environment: runs on a connection handed in by ``storage.migrate``.

For ``alembic revision --autogenerate`` from a shell, set ``DATABASE_URL`` (a sync URL works).
"""

from __future__ import annotations

import asyncio
import os

from alembic import context

from storage.db import DEFAULT_DATABASE_URL, create_engine
from storage.registry import metadata


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return

    async def _standalone() -> None:
        engine = create_engine(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run)
        await engine.dispose()

    asyncio.run(_standalone())


run()
