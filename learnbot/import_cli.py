"""``learnbot import assignments|completions FILE.csv``: load an LMS export.

Only the command line lives here; parsing, validation and the all-or-nothing apply are in
:mod:`bot.features.nudges.lms_import`, so the same import can be driven from anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.features.nudges.lms_import import ImportRejected, ImportResult, Kind, import_text
from learnbot.settings import Settings

COLUMNS_HELP = (
    "Columns are named by lms_import in app.yaml (defaults: email, course, due, completed; "
    "dates in lms_import.date_formats). The course column may hold a course id or its title. "
    "See docs/nudges.md."
)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from learnbot.platforms import configured_platforms
    from learnbot.runtime import build_runtime

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        print(f"learnbot: {path} is not UTF-8 text; export the CSV as UTF-8 and try again", file=sys.stderr)
        return 2
    kind: Kind = args.kind

    async def run() -> ImportResult:
        names = [plugin.NAME for plugin in configured_platforms(settings)] or ["console"]
        runtime = await build_runtime(settings, names)
        try:
            return await import_text(runtime.app, text, kind, dry_run=args.dry_run)
        finally:
            await runtime.close()

    try:
        result = asyncio.run(run())
    except ImportRejected as rejected:
        print(f"learnbot: {path}: {rejected}", file=sys.stderr)
        return 1
    prefix = "dry run, nothing written: " if args.dry_run else ""
    print(f"{path}: {prefix}{result.summary()}")
    return 0


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import an LMS export (CSV): course assignments or completions",
        description=COLUMNS_HELP,
    )
    kinds = parser.add_subparsers(dest="import_kind", metavar="WHAT", required=True)
    for kind, text in (
        ("assignments", "who must complete which course by when (email, course, due[, completed])"),
        ("completions", "who completed which course when (email, course, completed)"),
    ):
        sub = kinds.add_parser(kind, help=text, description=f"{text}. {COLUMNS_HELP}")
        sub.add_argument("file", metavar="FILE.csv")
        sub.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        sub.set_defaults(func=cmd_import, kind=kind)
