"""Is the lockfile up to date with pyproject.toml? (stdlib only: it runs before any install)

``make install`` runs it first, so a dependency added to pyproject.toml without ``make lock``
fails with the fix named instead of an ImportError halfway through the tests. It checks names,
not version ranges: ``make lock`` re-resolves everything.

    python tools/check_lock.py requirements.lock requirements-dev.lock
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 normalised name: ``Python_JSON.Logger`` -> ``python-json-logger``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wanted(extras: tuple[str, ...]) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    names = set()
    for requirement in requirements:
        match = _NAME.match(requirement)
        if match:
            names.add(canonical(match.group(1)))
    return names


def pins(lock: Path) -> dict[str, str]:
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def problems(lock: Path, dev_lock: Path) -> list[str]:
    out = []
    for path, extras in ((lock, ()), (dev_lock, ("dev",))):
        if not path.exists():
            out.append(f"{path.name} is missing")
            continue
        missing = sorted(wanted(extras) - set(pins(path)))
        if missing:
            out.append(f"{path.name} lacks {', '.join(missing)} (in pyproject.toml)")
    if lock.exists() and dev_lock.exists():
        runtime, dev = pins(lock), pins(dev_lock)
        differ = sorted(n for n in runtime if n in dev and runtime[n] != dev[n])
        if differ:
            out.append(f"{lock.name} and {dev_lock.name} pin different versions of {', '.join(differ)}")
    return out


def main(argv: list[str]) -> int:
    lock, dev_lock = (ROOT / name for name in (argv or ["requirements.lock", "requirements-dev.lock"]))
    found = problems(lock, dev_lock)
    if found:
        print(
            "The lockfiles are out of date: " + "; ".join(found) + ". Run `make lock` and commit both files.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
