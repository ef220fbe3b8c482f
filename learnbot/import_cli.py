"""``learnbot import [assignments|completions|transcript] FILE``: load an LMS export.

Only the command line lives here; reading, checking, planning and the all-or-nothing apply are
in :mod:`bot.features.lms`, so the chat upload and the scheduled pull run the same import.
Progress goes to stderr (a bar on a terminal, a line per step otherwise); ``--json`` prints the
summary on stdout for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.config import AppConfig, load_config
from bot.features.lms.apply import ImportRequest, apply_parsed, parse_stream
from bot.features.lms.parse import ImportRejected, Parsed
from bot.features.lms.summary import ImportResult
from learnbot.settings import Settings

COLUMNS_HELP = (
    "Columns come from lms_import in app.yaml: a preset (moodle, cornerstone, docebo, talentlms, "
    "sap_successfactors, generic) and/or your own column names. CSV in any common encoding or .xlsx. "
    "See docs/lms-import.md."
)


class Progress:
    """A tqdm bar per stage on a terminal; otherwise a plain line every 10%."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.bars: dict[str, Any] = {}
        self.shown: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet or total <= 0:
            return
        if self.tty:
            self._bar(stage, done, total)
            return
        tenth = done * 10 // total
        if tenth > self.shown.get(stage, -1):
            self.shown[stage] = tenth
            unit = "bytes" if stage == "read" else "chunks of people"
            print(f"{stage}: {done:,} of {total:,} {unit} ({tenth * 10}%)", file=self.stream, flush=True)

    def _bar(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            unit = "B" if stage == "read" else "chunk"
            bar = self.bars[stage] = tqdm(
                total=total, desc=stage, unit=unit, unit_scale=stage == "read", file=self.stream, leave=False
            )
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Check the whole file first (no database needed), then apply it in one transaction."""
    path = Path(args.file)
    if not path.is_file():
        print(f"learnbot: {path}: no such file", file=sys.stderr)
        return 2
    progress = Progress(sys.stderr, quiet=args.quiet)
    request = ImportRequest(kind=args.kind, office_id=args.office, dry_run=args.dry_run)
    try:
        config = load_config(settings.config_path)
        with path.open("rb") as stream:
            parsed = parse_stream(stream, path.name, config, request, progress)
        result = asyncio.run(_apply(settings, config, parsed, request, progress))
    except ImportRejected as rejected:
        progress.close()
        if args.json:
            print(json.dumps({"ok": False, "problems": [str(p) for p in rejected.problems]}))
        print(f"learnbot: {path}: {rejected}", file=sys.stderr)
        return 1
    progress.close()
    if args.json:
        print(json.dumps({"ok": True, **result.as_json()}, ensure_ascii=False))
    else:
        prefix = "dry run, nothing written: " if args.dry_run else ""
        print(f"{path}: {prefix}{result.summary()}")
    return 0


async def _apply(
    settings: Settings, config: AppConfig, parsed: Parsed, request: ImportRequest, progress: Progress
) -> ImportResult:
    from learnbot.platforms import configured_platforms
    from learnbot.runtime import build_runtime

    names = [plugin.NAME for plugin in configured_platforms(settings)] or ["console"]
    runtime = await build_runtime(settings, names, config=config)
    try:
        async with runtime.app.sessions() as session:
            result = await apply_parsed(runtime.app, session, parsed, request, progress)
            if not request.dry_run:
                await session.commit()
        return result
    finally:
        await runtime.close()


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import an LMS export (CSV or .xlsx): a transcript, assignments or completions",
        description=COLUMNS_HELP,
    )
    kinds = parser.add_subparsers(dest="import_kind", metavar="WHAT", required=True)
    for kind, text in (
        ("transcript", "a full transcript: due dates, statuses and completions (non-mandatory rows skipped)"),
        ("assignments", "who must complete which course by when (a due date on every mandatory row)"),
        ("completions", "who completed which course when ('not complete' rows are skipped)"),
    ):
        sub = kinds.add_parser(kind, help=text, description=f"{text}. {COLUMNS_HELP}")
        sub.add_argument("file", metavar="FILE")
        sub.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        sub.add_argument("--json", action="store_true", help="print the summary as JSON (for scripts)")
        sub.add_argument("--quiet", action="store_true", help="no progress on stderr")
        sub.add_argument("--office", help="office whose language and date order read the dates")
        sub.set_defaults(func=cmd_import, kind=kind)
