"""Upload in chat, on the console, Slack (a signed file_share event; the file is downloaded from
the fake Slack with the bot token) and Teams (a file.download.info attachment): dry run, Apply,
Cancel, a non-manager refused, and a bad file answered by line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.core import Learnbot
from storage.lms import LmsUpload
from storage.models import Person
from storage.nudges import Assignment
from tests.lms.chat_files import share_file
from tests.support.conversation import ChatWorld

MANAGER = "manager@example.org"
EXPORT = (
    "\ufeffemail,name,office,course,due,completed,status\r\n"
    'ana@example.org,"Lopez, Ana",Nairobi office,ethics,2026-12-15,,In progress\r\n'
    "bob@example.org,Bob Kip,Nairobi office,Information security,2026-12-31,2026-11-02,Completed\r\n"
    "bob@example.org,Bob Kip,Nairobi office,Excel for beginners,,,Not started\r\n"
    "carla@example.org,Carla Ruiz,Bogotá office,ethics,2026-12-15,,In progress\r\n"
).encode()


async def count(app: Learnbot, what: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


async def test_dry_run_then_apply(world: ChatWorld, tmp_path: Path) -> None:
    manager = world.person(MANAGER)
    bob = world.person("bob@example.org", name="Bob Kip")
    await bob.send("hello")  # Bob uses Learnbot already, so the thank-you reaches him
    await bob.expect_reply()
    await share_file(world, manager, "transcript.csv", EXPORT, tmp_path)
    dry = await manager.expect_reply("Dry run: transcript.csv", "2 assignment(s) created", "1 completion")
    assert "'Excel for beginners' (1)" in dry
    assert "carla@example.org" in dry  # Bogotá is not this manager's office: left alone
    assert await count(world.app, Assignment) == 0
    assert await count(world.app, LmsUpload) == 1
    await manager.press("Apply")
    done = await manager.expect_reply("Imported transcript.csv", "2 assignment(s) created")
    assert "1 completion(s) recorded" in done
    await world.deliver()
    await bob.expect_reply("Thank you for completing", "Information security")  # a recent completion
    assert await count(world.app, LmsUpload) == 0  # the file is deleted after use
    async with world.app.sessions() as session:
        people = {p.email: (p.display_name, p.office_id) for p in await session.scalars(select(Person))}
    assert people["ana@example.org"] == ("Lopez, Ana", "nairobi")
    assert "carla@example.org" not in people
    await manager.press("Apply")  # a second press: nothing is imported twice
    await manager.expect_reply("no longer here")


async def test_cancel_deletes_the_file(world: ChatWorld, tmp_path: Path) -> None:
    manager = world.person(MANAGER)
    await share_file(world, manager, "transcript.csv", EXPORT, tmp_path)
    await manager.expect_reply("Dry run: transcript.csv")
    await manager.press("Cancel")
    await manager.expect_reply("Cancelled: nothing was imported")
    assert await count(world.app, LmsUpload) == 0
    assert await count(world.app, Assignment) == 0


async def test_a_non_manager_is_refused(world: ChatWorld, tmp_path: Path) -> None:
    ana = world.person("ana@example.org")
    await share_file(world, ana, "transcript.csv", EXPORT, tmp_path)
    await ana.expect_reply("only a learning manager can import LMS files", MANAGER)
    assert await count(world.app, LmsUpload) == 0
    assert await count(world.app, Assignment) == 0


async def test_a_bad_file_is_answered_by_line(world: ChatWorld, tmp_path: Path) -> None:
    manager = world.person(MANAGER)
    bad = EXPORT.replace(b"2026-12-31", b"31.13.2026")
    await share_file(world, manager, "transcript.csv", bad, tmp_path)
    await manager.expect_reply("nothing was imported", "line 3: '31.13.2026' in 'due' is not a date")
    assert await count(world.app, LmsUpload) == 0
