"""The scheduled pull against a local fake LMS on 127.0.0.1: an HTTPS-style export with a token
from the environment, Moodle's web services, a 500, a timeout, and a file that is refused. The
office's learning manager hears about it privately, and only when something needs attention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import parse_config
from bot.core import Learnbot
from bot.features import FEATURES
from storage.models import OutboxMessage
from storage.nudges import Assignment
from tests.slack.fake import serve_locally

TOKEN = "s3cret"
EXPORT = (
    "email,name,office,course,due,completed,status\n"
    "ana@example.org,Ana,Nairobi office,ethics,2026-12-15,,In progress\n"
    "bob@example.org,Bob,Nairobi office,infosec,2026-12-31,2026-11-02,Completed\n"
    "bob@example.org,Bob,Nairobi office,Excel basics,,,Not started\n"
)
COMPLETED_AT = int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp())


class FakeLms:
    def __init__(self) -> None:
        self.export = EXPORT
        self.calls: list[str] = []

    async def export_csv(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401)
        return web.Response(text=self.export, content_type="text/csv")

    async def broken(self, request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text=self.export)

    async def moodle(self, request: web.Request) -> web.Response:
        query = request.query
        self.calls.append(query["wsfunction"])
        if query.get("wstoken") != TOKEN:
            return web.json_response(
                {"exception": "moodle_exception", "errorcode": "invalidtoken", "message": "Invalid token"}
            )
        if query["wsfunction"] == "core_enrol_get_enrolled_users":
            return web.json_response(
                [
                    {
                        "id": 7,
                        "fullname": "Awa Diallo",
                        "email": "awa@example.org",
                        "department": "Nairobi office",
                    },
                    {"id": 8, "fullname": "Luc Martin", "email": "luc@example.org", "department": ""},
                ]
            )
        done = query["userid"] == "7"
        completions = [{"type": 4, "complete": done, "timecompleted": COMPLETED_AT if done else None}]
        return web.json_response(
            {
                "completionstatus": {"completed": done, "aggregation": 1, "completions": completions},
                "warnings": [],
            }
        )


@pytest.fixture
async def lms() -> AsyncIterator[tuple[FakeLms, str]]:
    fake = FakeLms()
    app = web.Application()
    app.router.add_get("/export.csv", fake.export_csv)
    app.router.add_get("/broken.csv", fake.broken)
    app.router.add_get("/slow.csv", fake.slow)
    app.router.add_get("/moodle/webservice/rest/server.php", fake.moodle)
    runner, url = await serve_locally(app)
    yield fake, url
    await runner.cleanup()


def make_app(config_data: dict[str, Any], sessions: async_sessionmaker[AsyncSession], clock: ManualClock,
             sources: list[dict[str, Any]]) -> Learnbot:  # fmt: skip
    config_data["lms_import"] = {"sources": sources}
    return Learnbot(parse_config(config_data), sessions, clock=clock, features=FEATURES)


async def told(app: Learnbot) -> list[str]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like("lms-sync:%"))
        )
        return [str(row.payload["text"]) for row in rows]


async def assignments(app: Learnbot) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Assignment)) or 0)


async def test_a_good_pull_is_applied_quietly(config_data, sessions, clock, lms, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _fake, url = lms
    monkeypatch.setenv("LMS_TOKEN", TOKEN)
    app = make_app(
        config_data,
        sessions,
        clock,
        [{"office": "nairobi", "url": f"{url}/export.csv", "token_env": "LMS_TOKEN"}],
    )
    summary = await app.run_job("lms_sync", {})
    assert summary == "nairobi: 3 row(s), 2 created, 1 completed"
    assert await assignments(app) == 3  # and the next round of the yearly course
    assert await told(app) == []
    again = await app.run_job("lms_sync", {"office": "nairobi"})
    assert again == "nairobi: 3 row(s), 0 created, 0 completed"


async def test_attention_is_told_privately(config_data, sessions, clock, lms, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake, url = lms
    monkeypatch.setenv("LMS_TOKEN", TOKEN)
    fake.export = EXPORT + "carla@example.org,Carla,Atlantis office,ethics,2026-12-15,,In progress\n"
    app = make_app(
        config_data,
        sessions,
        clock,
        [{"office": "nairobi", "url": f"{url}/export.csv", "token_env": "LMS_TOKEN"}],
    )
    await app.run_job("lms_sync", {})
    [message] = await told(app)
    assert "'Atlantis office'" in message


@pytest.mark.parametrize(
    ("path", "token", "expected"),
    [
        ("broken.csv", TOKEN, "answered HTTP 500"),
        ("slow.csv", TOKEN, "did not answer within 0.3 s"),
        ("export.csv", "", "LMS_TOKEN (the source's token) is not set"),
    ],
)
async def test_failures_are_told_and_write_nothing(
    config_data, sessions, clock, lms, monkeypatch, path, token, expected
) -> None:  # type: ignore[no-untyped-def]
    _fake, url = lms
    monkeypatch.setenv("LMS_TOKEN", token)
    source = {"office": "nairobi", "url": f"{url}/{path}", "token_env": "LMS_TOKEN", "timeout_seconds": 0.3}
    app = make_app(config_data, sessions, clock, [source])
    assert await app.run_job("lms_sync", {}) == "nairobi: failed"
    [message] = await told(app)
    assert expected in message and "I couldn't import the LMS export" in message
    assert await assignments(app) == 0


async def test_a_refused_file_names_its_line(config_data, sessions, clock, lms, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake, url = lms
    monkeypatch.setenv("LMS_TOKEN", TOKEN)
    fake.export = EXPORT.replace("2026-12-31", "31.13.2026")
    app = make_app(
        config_data,
        sessions,
        clock,
        [{"office": "nairobi", "url": f"{url}/export.csv", "token_env": "LMS_TOKEN"}],
    )
    await app.run_job("lms_sync", {})
    [message] = await told(app)
    assert "line 3: '31.13.2026' in 'due' is not a date" in message
    assert await assignments(app) == 0


async def test_moodle_web_services(config_data, sessions, clock, lms, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake, url = lms
    monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
    source = {"office": "nairobi", "kind": "moodle", "url": f"{url}/moodle", "token_env": "MOODLE_TOKEN",
              "moodle_courses": {12: "ethics"}}  # fmt: skip
    app = make_app(config_data, sessions, clock, [source])
    assert await app.run_job("lms_sync", {}) == "nairobi: 2 row(s), 1 created, 1 completed"
    assert (
        fake.calls == ["core_enrol_get_enrolled_users"] + ["core_completion_get_course_completion_status"] * 2
    )
    monkeypatch.setenv("MOODLE_TOKEN", "wrong")
    assert await app.run_job("lms_sync", {}) == "nairobi: failed"
    assert "invalidtoken" in (await told(app))[0]
