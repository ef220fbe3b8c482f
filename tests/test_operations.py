"""Running Learnbot as an operator: settings, logs, version, health endpoints, a database that
cannot be reached."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from learnbot import logs
from learnbot.cli import main
from learnbot.runtime import Runtime
from learnbot.server import STATE, build_server, describe
from learnbot.settings import Settings


def test_settings_read_env_file_and_secrets_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "SLACK_BOT_TOKEN", "LOG_FORMAT", "HOST", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("PORT=4000\nLOG_FORMAT=JSON\nSLACK_SIGNING_SECRET=\n", encoding="utf-8")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "SLACK_BOT_TOKEN").write_text("xoxb-from-a-secret\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEARNBOT_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings.from_env()
    assert settings.port == 4000 and settings.log_format == "json" and settings.log_level == "DEBUG"
    assert settings.slack_bot_token == "xoxb-from-a-secret"
    assert settings.slack_signing_secret is None  # empty means unset
    monkeypatch.setenv("PORT", "4100")  # the environment wins over .env
    assert Settings.from_env().port == 4100


def test_a_bad_setting_is_named(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    assert main(["config", "check"]) == 2
    assert "PORT: Input should be a valid integer" in capsys.readouterr().err


def test_teams_without_auth_binds_to_loopback_unless_told() -> None:
    assert Settings().bind_host == "0.0.0.0"
    emulator = Settings(teams_enabled=True)
    assert emulator.bind_host == "127.0.0.1"
    assert Settings(teams_enabled=True, host="0.0.0.0").bind_host == "0.0.0.0"
    assert Settings(teams_enabled=True, microsoft_app_id="x").bind_host == "0.0.0.0"
    assert "NOT authenticated" in describe(emulator) and "127.0.0.1:3000" in describe(emulator)


def test_json_logs_and_quiet_libraries() -> None:
    stream = io.StringIO()
    try:
        logs.configure("DEBUG", "json", stream=stream)
        logging.getLogger("learnbot.test").debug("hello %s", "there")
        logging.getLogger("aiosqlite").debug("executing SELECT 1")
        logging.getLogger("slack_sdk.web").debug("request")
        logging.getLogger("somelibrary").info("chatter")
    finally:
        logs.configure("WARNING", "text", stream=io.StringIO())
        for name in (*logs.OWN_LOGGERS, *logs.LIBRARY_LOGGERS):
            logging.getLogger(name).setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines == [{**lines[0], "level": "DEBUG", "logger": "learnbot.test", "message": "hello there"}]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("learnbot ")


def test_an_unreachable_database_is_one_line_with_the_fix(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://learnbot:secret@127.0.0.1:9/learnbot")
    assert main(["db", "upgrade"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "cannot reach the database at postgresql+asyncpg://learnbot:***@127.0.0.1:9/learnbot" in err
    assert "Fix: start PostgreSQL or set DATABASE_URL" in err and "secret" not in err


async def test_livez_and_readyz(config: AppConfig, sessions, engine, clock: ManualClock) -> None:
    app = Learnbot(config, sessions, clock=clock, platforms=("console",), features=FEATURES)
    runtime = Runtime(settings=Settings(), config=config, engine=engine, app=app)
    web_app = await build_server(Settings(), runtime=runtime, start_background=False)
    connected = {"now": False}

    async def socket_mode() -> bool:
        return connected["now"]

    web_app[STATE].checks["slack_socket_mode"] = socket_mode
    async with TestClient(TestServer(web_app)) as client:
        assert (await client.get("/livez")).status == 200
        response = await client.get("/readyz")
        assert response.status == 503
        assert await response.json() == {"status": "not ready", "database": "ok", "slack_socket_mode": "down"}
        connected["now"] = True
        response = await client.get("/readyz")
        assert response.status == 200 and (await response.json())["status"] == "ready"


async def test_readyz_covers_the_scheduler(tmp_path: Path, config_data: dict) -> None:
    import yaml

    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(config_data))
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}", config_path=str(path))
    async with TestClient(TestServer(await build_server(settings))) as client:
        body = await (await client.get("/readyz")).json()
    assert body == {"status": "ready", "database": "ok", "scheduler": "ok"}


async def test_calendar_ids_are_validated(config: AppConfig, sessions, engine, clock: ManualClock) -> None:
    """Out-of-range ids are a 404 on every database (PostgreSQL's integer overflowed: a 500)."""
    app = Learnbot(config, sessions, clock=clock, platforms=("console",), features=FEATURES)
    runtime = Runtime(settings=Settings(), config=config, engine=engine, app=app)
    web_app = await build_server(Settings(), runtime=runtime, start_background=False)
    async with TestClient(TestServer(web_app)) as client:
        for name in (
            "learning-day-999999999999",
            "learning-day-2147483648",
            "learning-day-0",
            "learning-day-01",
        ):
            response = await client.get(f"/calendar/{name}.ics")
            assert response.status == 404, name
        assert (await client.get("/calendar/learning-day-2147483647.ics")).status == 404


def test_every_setting_is_read_from_the_environment() -> None:
    """A field added to ``Settings`` needs its environment variable in ``EnvSettings`` too."""
    from dataclasses import fields

    from learnbot.settings import EnvSettings

    missing = {f.name for f in fields(Settings)} - set(EnvSettings.model_fields)
    assert not missing, f"add these to learnbot.settings.EnvSettings: {sorted(missing)}"
