"""How many real-looking replies to a reminder are understood, per language: the table in
tests/i18n/reply_cases.py (at least 60 per language, tuned on) and its held-out set (written
after the rules, never tuned on). "Understood" = the expected intent, and the expected day when
the reply names one. Also: negatives read as done (must be 0) and the time per reply.

Usage: ``.venv/bin/python bench/intents.py``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.intents import Kind, understand
from tests.i18n.reply_cases import ANY, CASES, HELD_OUT, NOW, Case


def score(cases: list[Case], language: str) -> tuple[int, int, list[str]]:
    understood, negatives_done, missed = 0, 0, []
    for case in cases:
        got = understand(case.text, NOW, language)
        kind = got.kind if got else None
        if case.negative and kind == Kind.DONE:
            negatives_done += 1
        if kind == case.kind and (case.on is ANY or (got is not None and got.on == case.on)):
            understood += 1
        else:
            missed.append(f"{case.text!r} -> {kind} (expected {case.kind})")
    return understood, negatives_done, missed


def main() -> None:
    print(f"{'set':<9} {'lang':<4} {'replies':>7} {'understood':>10} {'share':>6} {'negatives as done':>18}")
    for name, table in (("table", CASES), ("held-out", HELD_OUT)):
        for language, cases in table.items():
            ok, negatives_done, missed = score(cases, language)
            share = ok / len(cases)
            print(f"{name:<9} {language:<4} {len(cases):>7} {ok:>10} {share:>6.0%} {negatives_done:>18}")
            for line in missed:
                print(f"{'':<14}missed: {line}")
    replies = [(case.text, language) for language, cases in CASES.items() for case in cases]
    start = time.perf_counter()
    for text, language in replies:
        understand(text, NOW, language)
    per_reply = (time.perf_counter() - start) / len(replies) * 1000
    print(f"time per reply: {per_reply:.2f} ms ({len(replies)} replies, dateparser included)")


if __name__ == "__main__":
    main()
