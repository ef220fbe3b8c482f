"""The ``learnbot`` command: one tool, a subcommand per job, ``--help`` on each."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock, ManualClock
from bot.config import ConfigError, load_config
from learnbot import logs, version
from learnbot.settings import Settings
from storage.db import DatabaseUnreachable

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

EXTRA_COMMAND_MODULES: tuple[str, ...] = (
    "adapters.teams.package",
    "adapters.slack.cli",
    "adapters.teams.cli",
    "learnbot.import_cli",
)
"""Modules that add subcommands: each has ``add_commands(subparsers)`` setting ``func``."""

Handler = Callable[[argparse.Namespace, Settings], int]


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "config", None):
        from dataclasses import replace

        settings = replace(settings, config_path=args.config)
    return settings


# -- subcommands -------------------------------------------------------------------------------
def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    """Serve when platform credentials are set, otherwise open the console chat."""
    if settings.any_platform:
        return cmd_serve(args, settings)
    print(
        "No Slack or Teams credentials are set, so Learnbot starts in the console "
        "(see README: 'Run it in Slack' / 'Run it in Teams').",
        file=sys.stderr,
    )
    args.as_email, args.script, args.clock = args.as_email, None, None
    return cmd_chat(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from learnbot.server import serve

    if args.port is not None:
        from dataclasses import replace

        settings = replace(settings, port=args.port)
    load_config(settings.config_path)
    serve(settings)
    return 0


def cmd_deliver(args: argparse.Namespace, settings: Settings) -> int:
    """Only the outbox delivery worker (an extra replica next to ``serve``)."""
    from learnbot.server import deliver_only

    return asyncio.run(deliver_only(settings, name=args.name))


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.console.chat import ConsoleChat
    from learnbot.runtime import build_runtime

    clock: Clock | None = None
    if args.clock or args.script:
        start = datetime.fromisoformat(args.clock) if args.clock else datetime.now(UTC)
        clock = ManualClock(start if start.tzinfo else start.replace(tzinfo=UTC))

    script_lines: list[str] | None = None
    if args.script:
        source = sys.stdin.read() if args.script == "-" else Path(args.script).read_text(encoding="utf-8")
        script_lines = source.splitlines()

    async def run() -> None:
        runtime = await build_runtime(settings, ["console"], clock=clock)
        try:
            chat = ConsoleChat(runtime.app, args.as_email, lambda line: print(line, flush=True))
            if script_lines is not None:
                await chat.run_script(script_lines)
            else:
                await chat.run_interactive()
        finally:
            await runtime.close()

    asyncio.run(run())
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import create_engine, ensure_reachable
    from storage.migrate import current_revisions, upgrade

    async def run() -> set[str]:
        engine = create_engine(settings.database_url)
        try:
            await ensure_reachable(engine)
            await upgrade(engine)
            return await current_revisions(engine)
        finally:
            await engine.dispose()

    revisions = asyncio.run(run())
    print(f"database is at {', '.join(sorted(revisions))}")
    return 0


def cmd_config_check(args: argparse.Namespace, settings: Settings) -> int:
    path = args.file or settings.config_path
    config = load_config(path)
    from bot.core import Learnbot
    from bot.features import FEATURES
    from scheduler.jobs import check_jobs
    from storage.db import create_engine, session_factory

    engine = create_engine("sqlite+aiosqlite:///:memory:")
    check_jobs(Learnbot(config, session_factory(engine), features=FEATURES))
    channels = sum(len(office.channels) for office in config.offices)
    print(
        f"{path} is valid: {len(config.offices)} office(s), {channels} channel(s), "
        f"{len(config.courses)} course(s), {len(config.feeds)} feed(s), "
        f"{len(config.schedules)} schedule(s)"
    )
    return 0


def cmd_run_job(args: argparse.Namespace, settings: Settings) -> int:
    """Run a job now and deliver what it planned through the configured platforms."""
    from learnbot.platforms import configured_platforms
    from learnbot.runtime import build_runtime
    from scheduler.jobs import find_schedule

    async def run() -> str:
        plugins = configured_platforms(settings)
        names = [plugin.NAME for plugin in plugins] or ["console"]
        runtime = await build_runtime(settings, names)
        try:
            job, job_args = find_schedule(runtime.app, args.name)
            started = runtime.app.clock.now()
            summary = await runtime.app.run_job(job, job_args)
            if not plugins:
                from adapters.console.chat import ConsoleChat
                from adapters.console.deliverer import ConsoleDeliverer

                shown = ConsoleChat(runtime.app, "operator@localhost", print)
                worker = runtime.worker(
                    {"console": ConsoleDeliverer(shown.show_delivery)}, resend_when_in_doubt=True
                )
                await worker.drain()
            return summary + await _delivery_note(runtime.app, started, delivered_here=not plugins)
        finally:
            await runtime.close()

    print(asyncio.run(run()))
    return 0


def cmd_reach(args: argparse.Namespace, settings: Settings) -> int:
    """Who can be reached, per office and platform, and the fix for everyone who cannot."""
    from bot.reach import render, report
    from learnbot.platforms import configured_platforms
    from learnbot.runtime import build_runtime

    if args.platform:
        platforms = [name.strip().lower() for name in args.platform.split(",") if name.strip()]
        unknown = [name for name in platforms if name not in {"slack", "teams"}]
        if unknown:
            raise ValueError(f"--platform: unknown platform(s) {', '.join(unknown)} (slack, teams)")
    else:
        platforms = [plugin.NAME for plugin in configured_platforms(settings)]
    if not platforms:
        raise ValueError(
            "no chat platform is configured (set Slack or Teams credentials), or name one with "
            "--platform slack,teams"
        )

    async def run() -> str:
        runtime = await build_runtime(settings, platforms)
        try:
            async with runtime.app.sessions() as session:
                offices = await report(session, runtime.config, platforms, runtime.app.clock.now())
            if args.office:
                offices = [o for o in offices if o.office_id == args.office]
                if not offices:
                    known = ", ".join(o.id for o in runtime.config.offices)
                    raise ValueError(f"--office: no office '{args.office}' (known: {known})")
            return render(offices, platforms)
        finally:
            await runtime.close()

    print(asyncio.run(run()))
    return 0


async def _delivery_note(app: Learnbot, since: datetime, *, delivered_here: bool) -> str:
    """What became of the messages the job planned: sent here, or queued for the server, and
    how many wait for someone to become reachable."""
    from bot.outbox import WAITING, tally

    async with app.sessions() as session:
        counts = await tally(session, since)
    if not counts:
        return ""
    parts = []
    if delivered_here:
        parts.append(f"{counts.get('sent', 0)} sent")
    else:
        queued = counts.get("pending", 0) + counts.get("sending", 0)
        parts.append(f"{queued} queued for the running server to send")
    if counts.get(WAITING):
        parts.append(f"{counts[WAITING]} waiting for people to become reachable (see `learnbot reach`)")
    if counts.get("failed"):
        parts.append(f"{counts['failed']} failed")
    return "\nmessages: " + "; ".join(parts)


# -- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnbot",
        description="Learnbot: weekly picks, course nudges, learning days and skillshare, in chat.",
        epilog="Settings come from the environment, a .env file or secrets files: DATABASE_URL "
        "(default: SQLite learnbot.db), LEARNBOT_CONFIG (default: app.yaml), SLACK_* and "
        "MICROSOFT_APP_* credentials, LOG_LEVEL, LOG_FORMAT=json.",
    )
    parser.add_argument("--config", help="path to app.yaml (default: $LEARNBOT_CONFIG or app.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details (LOG_LEVEL=DEBUG)")
    parser.add_argument("--version", action="version", version=f"learnbot {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    start = sub.add_parser("start", help="run the bot: serve with credentials, else the console chat")
    start.add_argument(
        "--as", dest="as_email", default="you@example.org", help="console: who you are (an email)"
    )
    start.add_argument("--port", type=int, help="serve: port (default: $PORT or 3000)")
    start.set_defaults(func=cmd_start)

    serve = sub.add_parser("serve", help="run the HTTP server for Slack and Teams, with /healthz")
    serve.add_argument("--port", type=int, help="port (default: $PORT or 3000)")
    serve.set_defaults(func=cmd_serve)

    deliver = sub.add_parser(
        "deliver",
        help="run only the outbox delivery worker (extra replicas share the database and the pacing)",
    )
    deliver.add_argument("--name", help="this worker's name in the outbox's claimed_by (default: random)")
    deliver.set_defaults(func=cmd_deliver)

    chat = sub.add_parser("chat", help="chat with Learnbot in the terminal")
    chat.add_argument("--as", dest="as_email", default="you@example.org", help="who you are (an email)")
    chat.add_argument(
        "--script", metavar="FILE", help="read lines from FILE ('-' for stdin) instead of the keyboard"
    )
    chat.add_argument(
        "--clock", metavar="ISO", help="start a demo clock at this time (e.g. 2026-12-01T09:00:00+00:00)"
    )
    chat.set_defaults(func=cmd_chat)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply migrations up to the newest").set_defaults(func=cmd_db_upgrade)

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", help="validate app.yaml and say what is wrong, by key")
    check.add_argument("file", nargs="?", help="file to check (default: the configured one)")
    check.set_defaults(func=cmd_config_check)

    run_job = sub.add_parser("run-job", help="run a scheduled job now (a schedule or job name)")
    run_job.add_argument("name")
    run_job.set_defaults(func=cmd_run_job)

    reach = sub.add_parser(
        "reach", help="who Learnbot can reach, per office and platform, and what to do about the rest"
    )
    reach.add_argument("--office", help="only this office (its id in app.yaml)")
    reach.add_argument("--platform", help="slack, teams or both (default: the configured ones)")
    reach.set_defaults(func=cmd_reach)

    for module_name in EXTRA_COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except ValueError as exc:
        print(f"learnbot: {exc}", file=sys.stderr)
        return 2
    logs.configure(
        "DEBUG" if args.verbose else settings.log_level, settings.log_format, settings.log_libraries
    )
    try:
        handler: Handler = args.func
        return handler(args, settings)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except DatabaseUnreachable as exc:
        print(f"learnbot: {exc}", file=sys.stderr)
        return 3
    except (ValueError, KeyError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"learnbot: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
