"""Each preset imports a realistic sample export (BOM, CRLF, quoted commas, non-mandatory and
not-completed rows, the vendor's date style), and a broken copy fails on the right line with
nothing written."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from bot.features.lms.apply import ImportRequest, import_stream
from bot.features.lms.parse import ImportRejected
from storage.models import Person
from storage.nudges import Assignment

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lms"

ALIASES = {
    "ethics": ["ETH-101", "Éthique et intégrité"],
    "infosec": ["SEC-201", "Sécurité de l'information"],
}

# preset, file, extra settings, kind, expected (created, completed, skipped, not completed),
# a (text, replacement, line) that breaks a mandatory row
CASES: list[tuple[str, str, dict[str, Any], str, tuple[int, int, int, int], tuple[str, str, int]]] = [
    (
        "moodle", "moodle.csv", {"language": "fr"}, "completions", (3, 3, 2, 1),
        ("jeudi 26 novembre 2026", "jeudi 31 novembre 2026", 7),
    ),
    (
        "cornerstone", "cornerstone.csv", {"date_order": "MDY"}, "transcript", (3, 1, 3, 1),
        ("12/31/2026,11/27/2026", "31/12/2026,11/27/2026", 4),
    ),
    (
        "docebo", "docebo.csv", {}, "transcript", (3, 1, 1, 1),
        ("2027-01-31 23:59:59", "2027-02-30 23:59:59", 5),
    ),
    (
        "talentlms", "talentlms.csv", {}, "transcript", (3, 1, 1, 1),
        ("20/11/2026", "20.11.20266", 2),
    ),
    (
        "sap_successfactors", "sap_successfactors.csv", {}, "transcript", (3, 1, 1, 0),
        ('"Jan 31, 2027 11:59 PM"', '"Janvember 31, 2027"', 5),
    ),
    (
        "generic", "generic-utf16.txt", {"language": "fr"}, "transcript", (3, 1, 1, 0),
        ("8 décembre 2026", "32 décembre 2026", 5),
    ),
]  # fmt: skip


def make_app(config_data: dict[str, Any], sessions: async_sessionmaker[AsyncSession], clock: ManualClock,
             preset: str, extra: dict[str, Any]) -> Learnbot:  # fmt: skip
    for course in config_data["courses"]:
        course["aliases"] = ALIASES.get(course["id"], [])
    config_data["lms_import"] = {"preset": preset, **extra}
    return Learnbot(parse_config(config_data), sessions, clock=clock, features=FEATURES)


async def count(app: Learnbot, what: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


@pytest.mark.parametrize(
    ("preset", "name", "extra", "kind", "expected", "broken"), CASES, ids=[c[0] for c in CASES]
)
async def test_each_preset_imports_its_sample_cleanly(
    config_data: dict[str, Any], sessions: async_sessionmaker[AsyncSession], clock: ManualClock,
    preset: str, name: str, extra: dict[str, Any], kind: str, expected: tuple[int, int, int, int],
    broken: tuple[str, str, int],
) -> None:  # fmt: skip
    app = make_app(config_data, sessions, clock, preset, extra)
    data = (FIXTURES / name).read_bytes()
    assert data.startswith((b"\xef\xbb\xbf", b"\xff\xfe")) and b"\r\n" in data.replace(b"\x00", b"")
    result = await import_stream(app, io.BytesIO(data), name, ImportRequest(kind=kind))  # type: ignore[arg-type]
    created, completed, skipped, not_completed = expected
    assert (result.created, result.completed, result.skipped, result.not_completed) == expected, (
        result.summary()
    )
    assert created and completed and skipped
    again = await import_stream(app, io.BytesIO(data), name, ImportRequest(kind=kind))  # type: ignore[arg-type]
    assert (again.created, again.completed, again.updated) == (0, 0, 0), again.summary()
    async with app.sessions() as session:
        people = list(await session.scalars(select(Person)))
    assert all(person.display_name for person in people)
    assert not_completed >= 0


@pytest.mark.parametrize(
    ("preset", "name", "extra", "kind", "expected", "broken"), CASES, ids=[c[0] for c in CASES]
)
async def test_a_broken_copy_fails_on_its_line_and_writes_nothing(
    config_data: dict[str, Any], sessions: async_sessionmaker[AsyncSession], clock: ManualClock,
    preset: str, name: str, extra: dict[str, Any], kind: str, expected: tuple[int, int, int, int],
    broken: tuple[str, str, int],
) -> None:  # fmt: skip
    app = make_app(config_data, sessions, clock, preset, extra)
    encoding = "utf-16" if name.endswith(".txt") else "utf-8-sig"
    text = (FIXTURES / name).read_bytes().decode(encoding)
    old, new, line = broken
    assert old in text
    data = text.replace(old, new, 1).encode(encoding)
    with pytest.raises(ImportRejected) as caught:
        await import_stream(app, io.BytesIO(data), name, ImportRequest(kind=kind))  # type: ignore[arg-type]
    assert [problem.line for problem in caught.value.problems] == [line], str(caught.value)
    assert "is not a date" in str(caught.value)
    assert await count(app, Person) == 0
    assert await count(app, Assignment) == 0


async def test_names_offices_and_french_dates_from_moodle(
    config_data: dict[str, Any], sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    app = make_app(config_data, sessions, clock, "moodle", {"language": "fr"})
    data = (FIXTURES / "moodle.csv").read_bytes()
    result = await import_stream(app, io.BytesIO(data), "moodle.csv", ImportRequest(kind="completions"))
    assert "'Excel pour débutants, niveau 1' (2)" in result.summary()
    async with app.sessions() as session:
        awa = await session.scalar(select(Person).where(Person.email == "awa.diallo@example.org"))
        done = await session.scalar(select(Assignment.completed_on).where(Assignment.person_id == awa.id))  # type: ignore[union-attr]
    assert awa is not None and (awa.display_name, awa.office_id) == ("Diallo, Awa", "bogota")
    assert done == date(2026, 11, 24)
