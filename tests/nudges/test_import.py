"""The LMS import: every bad row named by line, nothing written on error, idempotent apply,
column mapping from app.yaml, completions with thanks and the next round of a recurring course."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import AppConfig, parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.features.lms.apply import import_text
from bot.features.lms.parse import ImportRejected
from storage.models import OutboxMessage, Person
from storage.nudges import Assignment
from tests.nudges.helpers import assign, assignments
from tests.support.conversation import ConsoleDriver


async def _count(app: Learnbot, what: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


async def test_bad_rows_are_reported_by_line_and_nothing_is_written(app: Learnbot) -> None:
    text = (
        "email,course,due\n"
        "ana@example.org,ethics,2026-12-08\n"
        "not-an-email,ethics,2026-12-08\n"
        "bob@example.org,gender,2026-12-08\n"
        "\n"
        "carl@example.org,infosec,31.13.2026\n"
        "dee@example.org,infosec,\n"
        "ana@example.org,ethics,2026-12-09\n"
    )
    with pytest.raises(ImportRejected) as caught:
        await import_text(app, text, "assignments")
    message = str(caught.value)
    assert "nothing was imported" in message
    assert "line 3: 'not-an-email' is not an email address" in message
    assert "line 4" not in message  # a course outside the catalogue is skipped, not fatal
    assert "line 6: '31.13.2026' in 'due' is not a date (D/M/Y or a written date in 'en')" in message
    assert "line 7: 'due' is empty" in message
    assert "line 8: ana@example.org has ethics on line 2 too, with a different date" in message
    assert await _count(app, Person) == 0
    assert await _count(app, Assignment) == 0


async def test_missing_column_names_the_mapping(app: Learnbot) -> None:
    with pytest.raises(ImportRejected) as caught:
        await import_text(app, "login,course,due\nana@example.org,ethics,2026-12-08\n", "assignments")
    assert "line 1: missing column(s) 'email' (lms_import.email)" in str(caught.value)
    assert "'login', 'course', 'due'" in str(caught.value)


async def test_a_good_file_twice_changes_nothing(app: Learnbot, chat: ConsoleDriver) -> None:
    await chat.send("hello")  # Ana has used the bot; Bob has not
    await chat.expect_reply("what I can do")
    rows = ("ana@example.org,ethics,2026-12-08", "Bob@Example.org,Information security,01/02/2027")
    first = await assign(app, *rows)
    assert (first.created, first.unchanged) == (2, 0)
    assert first.new_people == ["bob@example.org"]
    assert first.not_in_chat == ["bob@example.org"]
    assert "bob@example.org" in first.summary()
    before = [(a.person_id, a.course_id, a.due_on, a.next_nudge_on) for a in await assignments(app)]
    second = await assign(app, *rows)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert second.new_people == []
    assert [(a.person_id, a.course_id, a.due_on, a.next_nudge_on) for a in await assignments(app)] == before
    assert before[1][2] == date(2027, 2, 1)


async def test_a_moved_due_date_updates_the_open_assignment(app: Learnbot) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-08")
    result = await assign(app, "ana@example.org,ethics,2027-01-15")
    assert (result.created, result.updated) == (0, 1)
    [only] = await assignments(app)
    assert only.due_on == date(2027, 1, 15)
    assert only.next_nudge_on == date(2027, 1, 8)


async def test_mapping_and_date_formats_come_from_app_yaml(
    config_data: dict,
    sessions,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    config_data["lms_import"] = {
        "email": "Work email",
        "course": "Course name",
        "due": "Due by",
        "completed": "Completed on",
        "date_formats": ["%d.%m.%Y"],
    }
    config: AppConfig = parse_config(config_data)
    app = Learnbot(config, sessions, clock=clock, features=FEATURES)
    text = (
        "\ufeffWork email;Course name;Due by;Completed on\nana@example.org;Ethics and integrity;08.12.2026;\n"
    )
    result = await import_text(app, text, "assignments")
    assert result.created == 1
    assert (await assignments(app))[0].due_on == date(2026, 12, 8)


async def test_completions_thank_recent_ones_and_assign_the_next_round(app: Learnbot) -> None:
    await assign(app, "ana@example.org,ethics,2026-12-08", "bob@example.org,infosec,2026-12-08")
    text = (
        "email,course,completed\n"
        "ana@example.org,ethics,2026-11-30\n"  # recent: thanked
        "bob@example.org,infosec,2025-01-10\n"  # an old completion: recorded quietly
        "carl@example.org,ethics,2026-11-28\n"  # no assignment yet: created, completed
    )
    result = await import_text(app, text, "completions")
    assert (result.completed, result.created) == (3, 2)
    rows = await assignments(app)
    done = {(a.course_id, a.completed_on, a.completion_source) for a in rows if a.completed_on}
    assert ("ethics", date(2026, 11, 30), "lms") in done
    upcoming = sorted((a.course_id, a.due_on) for a in rows if a.completed_on is None)
    assert upcoming == [
        ("ethics", date(2028, 11, 28)),
        ("ethics", date(2028, 11, 30)),
        ("infosec", date(2026, 12, 8)),  # a 2025 completion does not settle this year's round
    ]
    async with app.sessions() as session:
        keys = set(await session.scalars(select(OutboxMessage.idempotency_key)))
    assert len([k for k in keys if k.startswith("nudge-thanks:")]) == 2
    again = await import_text(app, text, "completions")
    assert (again.completed, again.created, again.unchanged) == (0, 0, 3)
    assert await _count(app, OutboxMessage) == 2


async def test_dry_run_counts_but_writes_nothing(app: Learnbot) -> None:
    text = "email,course,due\nana@example.org,ethics,2026-12-08\n"
    result = await import_text(app, text, "assignments", dry_run=True)
    assert result.created == 1
    assert await _count(app, Assignment) == 0
    assert await _count(app, Person) == 0


def test_cli_reports_bad_rows_and_exits_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from learnbot.cli import main

    config = tmp_path / "app.yaml"
    config.write_text((Path(__file__).parents[1] / "fixtures" / "app.yaml").read_text())
    csv_file = tmp_path / "lms.csv"
    csv_file.write_text("email,course,due\nana@example.org,ethics,2026-12-08\nbob@example.org,ethics,soon\n")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    command = ["--config", str(config), "import", "assignments", str(csv_file)]
    assert main(command) == 1
    assert "line 3: 'soon' in 'due' is not a date" in capsys.readouterr().err
    csv_file.write_text("email,course,due\nana@example.org,ethics,2026-12-08\n")
    assert main(command) == 0
    assert "1 assignment(s) created" in capsys.readouterr().out
    assert main(command) == 0
    assert "1 unchanged" in capsys.readouterr().out
