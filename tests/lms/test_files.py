"""Files as they really come: encodings, .xlsx, statuses, skipped courses, and the bad files of
issue 16 (two identical rows, a 400-character email, a NUL byte, dates 9999-12-31 and
0001-01-01), each answered by line with nothing written and no traceback."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.config import parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.features.lms.apply import ImportRequest, import_stream, import_text
from bot.features.lms.parse import ImportRejected
from storage.models import Person
from storage.nudges import Assignment


async def count(app: Learnbot, what: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


async def rejected(app: Learnbot, text: str, kind: str = "assignments") -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        await import_text(app, text, kind)  # type: ignore[arg-type]
    assert await count(app, Person) == 0
    assert await count(app, Assignment) == 0
    return [str(problem) for problem in caught.value.problems]


async def test_two_identical_rows_are_counted_once(app: Learnbot) -> None:
    row = "ana@example.org,ethics,2026-12-08"
    result = await import_text(app, f"email,course,due\n{row}\n{row}\n", "assignments")
    assert (result.created, result.duplicates) == (1, 1)
    assert "1 repeated row(s) counted once" in result.summary()


async def test_a_400_character_email_names_its_line(app: Learnbot) -> None:
    email = "a" * 390 + "@example.org"
    problems = await rejected(
        app, f"email,course,due\nana@example.org,ethics,2026-12-08\n{email},ethics,2026-12-08\n"
    )
    assert problems == ["line 3: the email is 402 characters long; an address has at most 320"]


async def test_a_nul_byte_names_its_line(app: Learnbot) -> None:
    problems = await rejected(
        app, "email,course,due\nana@example.org,ethics,2026-12-08\nbob@exa\x00mple.org,ethics,2026-12-08\n"
    )
    assert problems == [
        "line 3: contains a NUL character (a byte 0): the file may be damaged or not a CSV export"
    ]


@pytest.mark.parametrize("due", ["9999-12-31", "0001-01-01"])
async def test_far_away_dates_name_their_line(app: Learnbot, due: str) -> None:
    problems = await rejected(app, f"email,course,due\nana@example.org,ethics,{due}\n")
    assert problems == [f"line 2: '{due}' in 'due' is not a plausible date ({due} is outside 1900-2199)"]


async def test_binary_and_empty_files_are_refused_in_one_line(app: Learnbot) -> None:
    for data, expected in ((b"", "is empty"), (b"PK\x03\x04garbage", "is not a readable .xlsx workbook")):
        with pytest.raises(ImportRejected) as caught:
            await import_stream(app, io.BytesIO(data), "export.xlsx", ImportRequest())
        assert expected in str(caught.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
async def test_encodings_are_detected(app: Learnbot, encoding: str) -> None:
    separator = "\t" if encoding == "utf-16" else ";"
    text = separator.join(["email", "name", "course", "due"]) + "\r\n"
    text += (
        separator.join(["jose@example.org", "José Müller-Ñúñez", "Ethics and integrity", "08/12/2026"])
        + "\r\n"
    )
    result = await import_stream(app, io.BytesIO(text.encode(encoding)), "export.csv", ImportRequest())
    assert result.created == 1
    async with app.sessions() as session:
        person = await session.scalar(select(Person))
        due = await session.scalar(select(Assignment.due_on))
    assert person is not None and person.display_name == "José Müller-Ñúñez"
    assert due == date(2026, 12, 8)


async def test_xlsx_is_read(app: Learnbot) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Email", "Full name", "Course", "Due date", "Completion date", "Status"])
    sheet.append(["ana@example.org", "Ana", "ethics", datetime(2026, 12, 8), None, "In progress"])
    sheet.append(
        ["bob@example.org", "Bob", "infosec", datetime(2026, 12, 31), datetime(2026, 11, 20), "Completed"]
    )
    sheet.append(["bob@example.org", "Bob", "Excel basics", None, None, "Not started"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = await import_stream(app, buffer, "export.xlsx", ImportRequest())
    assert (result.created, result.completed, result.skipped) == (2, 1, 1)


async def test_statuses_and_skipped_courses(app: Learnbot) -> None:
    rows = ["email,course,due,completed,status"]
    rows += [f"p{n}@example.org,Course {n % 12},,," for n in range(60)]
    rows += [
        "ana@example.org,ethics,,,Not complete",  # nothing to do, not an error
        "ana@example.org,infosec,2026-12-31,,In progress",
        "bob@example.org,ethics,2026-12-31,2026-11-02,Completed",
        "carl@example.org,ethics,2026-12-31,,Completed",  # completed without a date
        "dee@example.org,ethics,2026-12-31,,Maybe",
    ]
    problems = await rejected(app, "\n".join(rows) + "\n", "transcript")
    assert problems == [
        "line 65: 'completed' is empty but the status says completed",
        "line 66: status 'Maybe' in 'status' is not understood; add it to lms_import.statuses.completed "
        "or .not_completed in app.yaml",
    ]
    result = await import_text(app, "\n".join(rows[:-2]) + "\n", "transcript")
    assert (result.created, result.completed, result.not_completed, result.skipped) == (2, 1, 1, 60)
    top = result.as_json()["top_not_mandatory"]
    assert len(top) == 10 and top[0] == {"course": "Course 0", "rows": 5}


async def test_a_custom_mapping_overrides_the_preset(config_data: dict[str, Any], sessions, clock) -> None:  # type: ignore[no-untyped-def]
    config_data["lms_import"] = {
        "preset": "cornerstone",
        "email": "Work mail",
        "date_order": "MDY",
        "statuses": {"completed": ["Fertig"]},
    }
    config_data["courses"][0]["aliases"] = ["ETH"]
    app = Learnbot(parse_config(config_data), sessions, clock=clock, features=FEATURES)
    text = (
        "Work mail,User Email,Training Title,Transcript Status,"
        "Transcript Due Date,Transcript Completed Date\n"
        "ana@example.org,ignored@example.org,ETH,Fertig,12/31/2026,11/02/2026\n"
    )
    result = await import_text(app, text, "transcript")
    assert result.completed == 1
    async with app.sessions() as session:
        assert await session.scalar(select(Person.email)) == "ana@example.org"


async def test_unknown_office_labels_are_listed_not_fatal(app: Learnbot) -> None:
    text = "email,name,office,course,due\nana@example.org,Ana,Atlantis,ethics,2026-12-08\n"
    result = await import_text(app, text, "assignments")
    assert result.unknown_offices == {"Atlantis": 1}
    assert "'Atlantis'" in result.summary()


def test_cli_json_and_plain_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from learnbot.cli import main

    config = tmp_path / "app.yaml"
    config.write_text((Path(__file__).parents[1] / "fixtures" / "app.yaml").read_text())
    export = tmp_path / "export.csv"
    export.write_text(
        "email,course,due,status\nana@example.org,ethics,2026-12-08,\nbob@example.org,Excel,,\n"
    )
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["--config", str(config), "import", "transcript", str(export), "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["ok"] and summary["created"] == 1 and summary["skipped_not_mandatory"] == 1
    assert "read:" in captured.err and "(100%)" in captured.err
    export.write_text("email,course,due\nana@example.org,ethics,someday\n")
    assert main(["--config", str(config), "import", "assignments", str(export), "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["problems"][0].startswith("line 2: 'someday' in 'due' is not a date")
    assert "Traceback" not in captured.err


async def test_a_dry_run_plans_exactly_what_applying_does(app: Learnbot) -> None:
    await import_text(app, "email,course,due\nana@example.org,ethics,2026-12-08\n", "assignments")
    text = (
        "email,name,course,due,completed,status\n"
        "ana@example.org,Ana,ethics,2027-01-15,,In progress\n"  # moved
        "bob@example.org,Bob,infosec,2026-12-31,2026-11-20,Completed\n"  # new person, completed
        "bob@example.org,Bob,Excel,,,\n"
    )
    dry = await import_text(app, text, "transcript", dry_run=True)
    assert await count(app, Person) == 1 and await count(app, Assignment) == 1
    real = await import_text(app, text, "transcript")
    assert {**dry.as_json(), "dry_run": False} == real.as_json()
    assert (real.created, real.updated, real.completed, real.next_rounds) == (1, 1, 1, 1)


def test_bad_lms_settings_name_their_key(config_data: dict[str, Any]) -> None:
    from bot.config import ConfigError

    config_data["lms_import"] = {
        "preset": "blackboard",
        "date_order": "DDMMYY",
        "sources": [{"office": "atlantis", "url": "ftp://lms.example.org/x.csv", "token_env": "lower"}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(config_data)
    text = str(caught.value)
    assert "lms_import.preset:" in text and "'cornerstone'" in text
    assert "lms_import.date_order:" in text
    assert "lms_import.sources[0].url:" in text and "lms_import.sources[0].token_env:" in text
    config_data["lms_import"] = {"sources": [{"office": "atlantis", "url": "https://lms.example.org/x.csv"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(config_data)
    assert "lms_import.sources[0].office: 'atlantis' is not one of ['nairobi', 'bogota']" in str(caught.value)
