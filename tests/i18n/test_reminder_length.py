"""A reminder reads in about ten seconds: at most about 50 words, buttons included, in every
language (what one can answer is explained in help, not in each reminder)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.config import Course
from bot.features.nudges.stages import Stage
from bot.features.nudges.texts import nudge
from bot.i18n import Catalogues
from bot.messages import Buttons, Header, LinkCard, Note, Text


def words(language: str, due: date, stage: str) -> int:
    t = Catalogues().translator(language)
    course = Course(id="ethics", title="Ethics and integrity", url="https://lms.example.org/ethics")
    message = nudge(t, "Ana Maria", course, due, Stage(stage, due), 7, date(2026, 12, 1))
    shown: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header | Text | Note):
            shown.append(block.text)
        elif isinstance(block, LinkCard):
            shown += [block.title, block.description]
        elif isinstance(block, Buttons):
            shown += [button.label for button in block.buttons]
    return len(" ".join(shown).split())


@pytest.mark.parametrize("language", ["en", "fr", "es"])
@pytest.mark.parametrize(
    ("due", "stage"),
    [(date(2026, 12, 8), "week-before"), (date(2026, 12, 1), "due"), (date(2026, 11, 20), "snooze-1")],
)
def test_a_reminder_is_at_most_50_words(language: str, due: date, stage: str) -> None:
    assert words(language, due, stage) <= 50
