"""The mutation check of the conversation tests: with a stray message said before every reply
and every proactive message, every conversation scenario must fail. A scenario that stays green
would let a duplicated or unexpected message through unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STRAY_MESSAGE_MUTATION

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.sqlite_pass
def test_a_stray_message_turns_every_scenario_red(tmp_path: Path) -> None:
    env = {**os.environ, STRAY_MESSAGE_MUTATION: "1"}
    env.pop("DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "scenario", "-p", "no:cacheprovider", "-rpE", "--tb=no"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    lines = run.stdout.splitlines()
    # A scenario whose leftover check fails at teardown is listed as PASSED and as ERROR: red.
    errored = {line.split()[1] for line in lines if line.startswith("ERROR ")}
    survivors = [line for line in lines if line.startswith("PASSED ") and line.split()[1] not in errored]
    assert not survivors, "these scenarios did not notice a stray message:\n" + "\n".join(survivors)
    closing = run.stdout.strip().splitlines()[-1]
    assert " failed" in closing and int(closing.split(" failed")[0].split()[-1]) >= 100, run.stdout[-3000:]
