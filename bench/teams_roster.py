"""Teams roster sync: how long installing Learnbot in a big team takes to read and store its
roster, and how fast reminders waiting for its members are released once they are linked.

A fake Bot Connector (tests/teams/fake_connector.py, in this process) serves a team of N members
with paged members and channels, on loopback. Two ways of reading the roster side by side: pages
of 500 (Teams' largest, what Learnbot asks for) against pages of 50 (the smallest, a baseline).
Then N people are imported, each with a reminder planned while not yet reachable (waiting); the
stored roster links them and the delivery worker releases and sends them all.
Run: ``.venv/bin/python bench/teams_roster.py [members]`` (default 5000), SQLite in a temp dir
(``DATABASE_URL`` to use PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from adapters.teams.plugin import BotAuthConfig, build  # noqa: E402
from adapters.teams.roster import TeamInfo, link_stored_rosters  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.core import Learnbot  # noqa: E402
from bot.messages import plain  # noqa: E402
from bot.outbox import ToPerson  # noqa: E402
from bot.people import get_or_create_by_email  # noqa: E402
from scheduler.delivery import DeliveryWorker, WorkerSettings  # noqa: E402
from scheduler.waiting import release_waiting, waiting_finders  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.support.databases import create_private_postgres, drop_private_postgres  # noqa: E402
from tests.teams.fake_connector import FakeConnector, Member  # noqa: E402

TEAM = "19:bench-team@thread.tacv2"
TENANT = "bench-tenant"


async def one_run(url: str, members: int, page_size: int, release: bool) -> dict[str, float]:
    connector = FakeConnector(validate=False)
    await connector.start()
    for n in range(members):
        member = Member(f"29:u{n}", str(uuid.UUID(int=n + 1)), f"Person {n}", f"p{n}@example.org")
        connector.members[member.id] = member
    connector.teams[TEAM] = list(connector.members)
    connector.team_channels[TEAM] = [{"id": TEAM}, {"id": "19:learning@thread.tacv2", "name": "learning"}]
    engine = create_engine(url)
    await upgrade(engine)
    config = load_config(ROOT / "tests" / "fixtures" / "app.yaml")
    app = Learnbot(config, session_factory(engine), clock=SystemClock(), platforms=("teams",), features=[])
    teams = build(app, BotAuthConfig())
    teams.roster.page_size = page_size
    figures: dict[str, float] = {}
    try:
        team = TeamInfo(TEAM, "Bench", TENANT, connector.url, "28:bot", "Learnbot")
        started = time.perf_counter()
        report = await teams.roster.install(team)
        figures["sync_s"] = time.perf_counter() - started
        figures["members"] = report.members
        figures["pages"] = sum(1 for c in connector.roster_calls if c.startswith("pagedmembers"))
        if release:
            figures.update(await _release(app, teams.deliverer, members))
    finally:
        await teams.sender.close()
        await engine.dispose()
        await connector.stop()
    return figures


async def _release(app: Learnbot, deliverer: object, members: int) -> dict[str, float]:
    async with app.sessions() as session, session.begin():
        for n in range(members):
            person = await get_or_create_by_email(session, app.config, f"p{n}@example.org", app.clock.now())
            await app.plan(session, destination=ToPerson(person.id), message=plain("Due"), key=f"nudge:{n}")
    started = time.perf_counter()
    linked, _ = await link_stored_rosters(app.sessions, app.clock.now)
    link_s = time.perf_counter() - started
    settings = WorkerSettings(concurrency=32)
    worker = DeliveryWorker(app.sessions, {"teams": deliverer}, app.clock, settings)  # type: ignore[dict-item]
    started = time.perf_counter()
    finders = waiting_finders(worker.deliverers)
    while (
        await release_waiting(
            app.sessions,
            finders,
            app.clock.now(),
            expiry=settings.waiting_expiry,
            recheck=settings.waiting_recheck,
        )
    ).released:
        pass
    release_s = time.perf_counter() - started
    started = time.perf_counter()
    await worker.drain()
    deliver_s = time.perf_counter() - started
    async with app.sessions() as session:
        sent = await session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
    return {
        "linked": linked,
        "link_s": link_s,
        "release_s": release_s,
        "deliver_s": deliver_s,
        "sent": float(sent or 0),
    }


async def database(tmp: str, name: str) -> tuple[str, str | None]:
    base = os.environ.get("DATABASE_URL")
    if base and base.startswith("postgresql"):
        return await create_private_postgres(base), base
    return f"sqlite+aiosqlite:///{tmp}/{name}.db", None


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, page, release in (("pages of 500", 500, True), ("pages of 50 (baseline)", 50, False)):
            url, base = await database(tmp, label.split()[2])
            try:
                results[label] = await one_run(url, members, page, release)
            finally:
                if base:
                    await drop_private_postgres(base, url)
    print(f"Teams roster sync, one team of {members} members, nobody known yet")
    print(f"{'':24} {'pages':>6} {'sync s':>8} {'members/s':>10}")
    for label, f in results.items():
        print(f"{label:24} {f['pages']:6.0f} {f['sync_s']:8.2f} {f['members'] / f['sync_s']:10.0f}")
    f = results["pages of 500"]
    print(
        f"then {members} people imported with a waiting reminder each: linked from the stored roster "
        f"{f['linked']:.0f} in {f['link_s']:.2f} s; released in {f['release_s']:.2f} s "
        f"({f['sent'] / f['release_s']:.0f}/s); delivered {f['sent']:.0f} (1:1 chats created) in "
        f"{f['deliver_s']:.2f} s ({f['sent'] / f['deliver_s']:.0f}/s, no Teams limits, connector in-process)"
    )


if __name__ == "__main__":
    asyncio.run(main())
