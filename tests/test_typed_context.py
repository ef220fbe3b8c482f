"""``Context.config`` is an :class:`~bot.config.AppConfig` and ``Context.now`` a ``datetime``,
so mypy (run by CI) catches a misspelt section such as ``ctx.config.skilshare``."""

from __future__ import annotations

import os
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent

SNIPPET = """
from datetime import datetime

from bot.router import Context


def sections(ctx: Context) -> None:
    when: datetime = ctx.now
    ok = ctx.config.skillshare.formats
    wrong = ctx.config.skilshare
"""


def test_mypy_catches_a_misspelt_config_section(tmp_path: Path) -> None:
    snippet = tmp_path / "misspelt.py"
    snippet.write_text(SNIPPET, encoding="utf-8")
    cwd = Path.cwd()
    os.chdir(ROOT)  # the project's mypy settings, cache and import paths
    try:
        out, err, status = api.run(["--config-file", "pyproject.toml", "--no-error-summary", str(snippet)])
    finally:
        os.chdir(cwd)
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1, out + err
    assert len(errors) == 1, out
    assert ':10: error: "AppConfig" has no attribute "skilshare"' in errors[0]
