"""CI guards for the catalogues: every user-facing text goes through gettext, the committed
template matches the code, and French and Spanish translate every entry (none fuzzy).

Run ``make extract-messages`` after changing texts, then translate (docs/translations.md).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "adapters", "scheduler", "learnbot")
LOCALES = ROOT / "bot" / "locale"
TEMPLATE = LOCALES / "messages.pot"
LANGUAGES = ("fr", "es")

# Callables whose text argument is shown to people: (positional index, keyword name).
USER_FACING: dict[str, tuple[int, str]] = {
    "Message": (0, "text"),
    "plain": (0, "text"),
    "Text": (0, "text"),
    "Header": (0, "text"),
    "Note": (0, "text"),
    "Button": (0, "label"),
    "UserError": (0, "message"),
    "FormField": (1, "label"),
    "Form": (0, "title"),
    "LinkCard": (2, "description"),
}
LETTERS = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
PENDING: set[str] = set()
"""Files not yet wrapped (none now); everything must go through gettext."""


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _literal_text(node: ast.expr | None) -> str | None:
    """The words of a bare literal (a string, an f-string, a concatenation), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if LETTERS.search(node.value) else None
    if isinstance(node, ast.JoinedStr):
        parts = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        return parts if LETTERS.search(parts) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) or _literal_text(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_text(node.body) or _literal_text(node.orelse)
    return None


def untranslated(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _name(node.func) not in USER_FACING:
            continue
        index, keyword = USER_FACING[_name(node.func)]
        args = [node.args[index]] if len(node.args) > index else []
        args += [k.value for k in node.keywords if k.arg == keyword]
        for arg in args:
            text = _literal_text(arg)
            if text is not None:
                yield f"{path.relative_to(ROOT)}:{node.lineno}: {_name(node.func)}({text[:60]!r})"


def test_every_user_facing_text_goes_through_gettext() -> None:
    found = [
        hit
        for package in SCANNED
        for path in sorted((ROOT / package).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in PENDING
        for hit in untranslated(path)
    ]
    assert not found, "wrap these in ctx._()/t._() (or N_() at import time):\n" + "\n".join(found)


def test_the_scan_catches_bare_and_formatted_text(tmp_path: Path) -> None:
    sample = ROOT / "bot" / "_i18n_scan_sample.py"
    sample.write_text(
        'plain("Hello")\nMessage(text=f"Hi {name}")\nButton("OK", "a")\nplain(ctx._("Fine"))\nText(body)\n',
        encoding="utf-8",
    )
    try:
        hits = list(untranslated(sample))
    finally:
        sample.unlink()
    assert len(hits) == 3


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {str(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id}


def test_the_committed_template_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    committed, current = _ids(TEMPLATE), _ids(fresh)
    assert current == committed, (
        "bot/locale/messages.pot is out of date; run `make extract-messages` and translate.\n"
        f"new: {sorted(current - committed)[:20]}\ngone: {sorted(committed - current)[:20]}"
    )


FIELD = re.compile(r"\{(\w*)[^{}]*\}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    template = _ids(TEMPLATE)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        elif not all(texts):
            problems.append(f"untranslated: {ids[0]!r}")
        elif set(FIELD.findall(ids[-1])) - {"n"} != set(FIELD.findall(texts[-1])) - {"n"}:
            problems.append(f"fields differ: {ids[0]!r} -> {texts[-1]!r}")
    missing = template - {str(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
    problems += [f"missing: {text!r}" for text in sorted(missing)]
    assert not problems, f"{language}: {len(problems)} problem(s)\n" + "\n".join(problems[:40])
