"""Learning days' ``app.yaml`` section (``learning_days:``), composed into
:class:`bot.config.AppConfig`."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from bot.config_base import Strict
from bot.features.learning_days.rules import parse_offset, parse_rule


def _check_offset(value: str) -> str:
    parse_offset(value)
    return value


def _check_rule(value: str) -> str:
    parse_rule(value)
    return value


class RecurringLearningDay(Strict):
    """A learning day that repeats in one office, e.g. "first Thursday of every month".

    ``starting`` anchors rules with an interval ("every 2 months") and is the first date
    generated; ``start``/``end`` default to the section's times."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    office: str
    rule: Annotated[str, AfterValidator(_check_rule)]
    title: str = Field(default="Learning day", min_length=1, max_length=200)
    theme: str = Field(default="", max_length=500)
    place: str = Field(default="", max_length=300)
    online_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    start: time | None = None
    end: time | None = None
    starting: date | None = None


class LearningDaysConfig(Strict):
    """When learning days are announced and which ones repeat.

    ``announce`` offsets are sent at ``announce_at`` (office time), or N hours before the start
    for "N hours before". ``public_url`` is normally set from ``LEARNBOT_PUBLIC_URL``: with it,
    announcements get an "Add to calendar" link served by Learnbot itself."""

    announce: list[Annotated[str, AfterValidator(_check_offset)]] = [
        "7 days before",
        "1 day before",
        "morning of",
    ]
    announce_at: time = time(9, 0)
    start: time = time(9, 0)
    end: time = time(17, 0)
    generate_ahead: int = Field(default=3, ge=1, le=24)
    recurring: list[RecurringLearningDay] = []
    public_url: str = Field(default="", pattern=r"^(https?://\S+)?$")

    @model_validator(mode="after")
    def _consistent(self) -> LearningDaysConfig:

        if self.start >= self.end:
            raise ValueError("learning_days: start must be before end")
        keys = [parse_offset(text).key for text in self.announce]
        if len(set(keys)) != len(keys):
            raise ValueError(f"learning_days.announce: two offsets mean the same moment ({self.announce})")
        ids = [rule.id for rule in self.recurring]
        if len(set(ids)) != len(ids):
            raise ValueError(f"learning_days.recurring: ids must be unique, got {ids}")
        for index, rule in enumerate(self.recurring):
            if (rule.start or self.start) >= (rule.end or self.end):
                raise ValueError(f"learning_days.recurring[{index}]: start must be before end")
        return self

    def check_offices(self, office_ids: list[str]) -> None:
        for index, rule in enumerate(self.recurring):
            if rule.office not in office_ids:
                raise ValueError(
                    f"learning_days.recurring[{index}].office: '{rule.office}' is not one of {office_ids}"
                )
