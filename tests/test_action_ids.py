"""Every button the bot can send has a handler: a typo in an action id fails here, not at run
time as "That button no longer does anything".

The test reads bot/ with ``ast`` for ``Button(...)`` and ``Form(...)`` calls and checks that
each action id is a named constant (not a string literal) whose value a fully built
``Learnbot`` routes (``router.actions``, or a dialog's ``actions`` once dialogs have them).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

from bot.core import Learnbot

ROOT = Path(__file__).resolve().parent.parent

NOT_YET_CONSTANTS: tuple[str, ...] = ()
"""Files where literal ids would be tolerated (none: every feature uses its actions.py)."""

SENDERS = {"Button": ("action_id", 1), "Form": ("submit_action_id", 1)}
"""Call name -> (keyword of the action id, its position)."""


def action_id_arguments() -> Iterator[tuple[str, int, ast.expr]]:
    """(module path, line, the action-id expression) of every Button/Form call in bot/."""
    for path in sorted((ROOT / "bot").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in SENDERS:
                continue
            keyword, position = SENDERS[name]
            argument = next((k.value for k in node.keywords if k.arg == keyword), None)
            if argument is None and len(node.args) > position:
                argument = node.args[position]
            if argument is not None:
                yield relative, node.lineno, argument


def routed_ids(app: Learnbot) -> set[str]:
    ids = set(app.router.actions)
    for dialog in app.router.dialogs.values():
        ids.update(getattr(dialog, "actions", None) or ())  # Dialog.actions, once it exists
    return ids


def test_every_button_the_bot_sends_has_a_handler(app: Learnbot) -> None:
    routed = routed_ids(app)
    problems: list[str] = []
    checked = 0
    for relative, line, argument in action_id_arguments():
        lenient = relative.startswith(NOT_YET_CONSTANTS)
        where = f"{relative}:{line}"
        if isinstance(argument, ast.Constant):
            if not lenient:
                problems.append(f"{where}: action id {argument.value!r} is a string literal; use a constant")
                continue
            value = argument.value
        elif isinstance(argument, ast.Name | ast.Attribute):
            module = importlib.import_module(relative.removesuffix(".py").replace("/", "."))
            try:
                value = eval(ast.unparse(argument), vars(module))  # a module-level constant
            except NameError:
                if not lenient:
                    problems.append(f"{where}: action id {ast.unparse(argument)} is no module-level constant")
                continue
        else:
            if not lenient:
                problems.append(f"{where}: action id {ast.unparse(argument)} is not a constant")
            continue
        checked += 1
        if value not in routed:
            problems.append(f"{where}: no handler for action id {value!r}")
    assert checked >= 8, "the scan found too few buttons; is it still reading bot/?"
    assert not problems, "\n".join(problems)


def test_handlers_are_registered_under_constants_too() -> None:
    """``router.action("nudge.done")`` would let the two spellings drift apart."""
    problems = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(NOT_YET_CONSTANTS):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "action"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                problems.append(
                    f"{relative}:{node.lineno}: router.action({node.args[0].value!r}) uses a literal"
                )
    assert not problems, "\n".join(problems)
