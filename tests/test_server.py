"""``learnbot serve``'s HTTP server: health check, scheduler and delivery worker lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from bot.messages import plain
from bot.outbox import ToChannel
from learnbot.cli import build_parser, main
from learnbot.runtime import Runtime
from learnbot.server import build_server
from learnbot.settings import Settings


async def test_healthz_reports_database_and_outbox(
    config: AppConfig, sessions, engine, clock: ManualClock
) -> None:
    app = Learnbot(config, sessions, clock=clock, platforms=("console",), features=FEATURES)
    async with sessions() as session, session.begin():
        await app.plan(session, destination=ToChannel("learning"), message=plain("x"), key="k")
    runtime = Runtime(settings=Settings(), config=config, engine=engine, app=app)
    web_app = await build_server(Settings(), runtime=runtime, start_background=False)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["outbox"] == {"pending": 1, "sending": 0, "failed": 0}


async def test_server_starts_and_stops_background_work(tmp_path: Path, config_data: dict) -> None:
    import yaml

    path = tmp_path / "app.yaml"
    config_data["schedules"] = [{"name": "tidy", "job": "expire_dialogs", "cron": "*/5 * * * *"}]
    path.write_text(yaml.safe_dump(config_data))
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}", config_path=str(path))
    web_app = await build_server(settings)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert (await response.json())["platforms"] == []  # no credentials: only /healthz


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    for argv in (
        ["--help"],
        ["serve", "--help"],
        ["chat", "--help"],
        ["db", "upgrade", "--help"],
        ["config", "check", "--help"],
        ["run-job", "--help"],
        ["start", "--help"],
    ):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(argv)
        assert exited.value.code == 0
    assert "usage: learnbot" in capsys.readouterr().out


def test_run_job_unknown_name_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
    monkeypatch.setenv("LEARNBOT_CONFIG", str(Path(__file__).parent / "fixtures" / "app.yaml"))
    assert main(["run-job", "expire_dialogs"]) == 0
    assert "idle conversation(s) expired" in capsys.readouterr().out
    assert main(["run-job", "nope"]) == 2
    assert "no schedule or job named 'nope'" in capsys.readouterr().err
