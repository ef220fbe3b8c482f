"""The console adapter, driven the way a newcomer would: ``learnbot chat --script``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.conversation import ChatWorld, ConsoleDriver

REPO = Path(__file__).parent.parent


def run_chat(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.txt"
    path.write_text(script)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "LEARNBOT_CONFIG": str(REPO / "tests" / "fixtures" / "app.yaml"),
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "MICROSOFT_APP_ID"):
        env.pop(name, None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "learnbot.cli",
            "chat",
            "--as",
            "ana@example.org",
            "--script",
            str(path),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_script_session_end_to_end(tmp_path: Path) -> None:
    result = run_chat(
        tmp_path,
        "\n".join(
            [
                "/learning help",
                "learning timezone Mars/Olympus",
                "learning timezone Europe/Paris",
                "/learning me",
                "what's the weather?",
                ":join bo@example.org",
                ":as manager@example.org",
                "/learning me",
                ":quit",
                "/learning help",
            ]
        )
        + "\n",
        "--clock",
        "2026-12-01T09:00:00+00:00",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /learning help" in out and "/learning timezone <Area/City>" in out
    assert "I don't know the time zone 'Mars/Olympus'" in out
    assert "Done: your time zone is now Europe/Paris." in out
    assert "Time zone: Europe/Paris" in out
    assert "Sorry, I didn't understand that." in out
    assert "[DM to bo@example.org]" in out and "Welcome, Bo!" in out
    assert "Role: learning manager" in out
    assert out.count("> /learning help") == 1  # nothing after :quit


def test_buttons_are_numbered_and_pressable() -> None:
    from adapters.console.render import render
    from bot.messages import Button, Buttons, Message

    shown: list[tuple[str, str]] = []
    text = render(
        Message("x", [Buttons([Button("Done", "nudge.done", "7"), Button("Later", "nudge.later", "7")])]),
        shown,
    )
    assert "[!1 Done]  [!2 Later]" in text
    assert shown == [("nudge.done", "7"), ("nudge.later", "7")]


async def test_unknown_button_number_is_explained(chat: ConsoleDriver) -> None:
    await chat.send("!9")
    await chat.expect_reply("there is no button !9")
    await chat.send("hello")  # and the chat goes on
    await chat.expect_reply("what I can do")


async def test_idle_conversation_note_is_delivered_by_the_housekeeping_job(world: ChatWorld) -> None:
    from datetime import timedelta

    from bot import dialogs
    from bot.people import get_or_create_by_email

    app = world.app
    ana = world.person("ana@example.org")
    await ana.send("hello")
    await ana.expect_reply("How can I help")
    async with app.sessions() as session, session.begin():
        person = await get_or_create_by_email(session, app.config, "ana@example.org", app.clock.now())
        await dialogs.save(
            session, person.id, "no-such-dialog", "step", {}, app.clock.now(), timedelta(minutes=5)
        )
    assert await world.run_job("expire_dialogs") == "0 idle conversation(s) expired"
    app.clock.advance(timedelta(minutes=6))  # type: ignore[attr-defined]
    assert await world.run_job("expire_dialogs") == "1 idle conversation(s) expired"
    await ana.expect_reply("Our earlier conversation has ended.")
