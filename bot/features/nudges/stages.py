"""The cadence of reminders for one assignment, as pure functions of dates and the policy.

Stages are named, and each name becomes part of the outbox key ``nudge:<assignment>:<stage>``,
so a stage is planned at most once whatever runs the sweep: ``early`` (N days before due),
``due`` (the due day), ``overdue-1`` … ``overdue-K`` (every few days while overdue) and
``snooze-<date>`` (the day a person asked to be reminded again).

Dates are the person's local dates; the sweep turns "now" into each person's local day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.features.nudges.config import NudgePolicy


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    on: date
    overdue: bool = False


def regular_stages(due_on: date, policy: NudgePolicy) -> list[Stage]:
    stages: list[Stage] = []
    if policy.first_reminder_days_before > 0:
        stages.append(Stage("early", due_on - timedelta(days=policy.first_reminder_days_before)))
    if policy.remind_on_due_day:
        stages.append(Stage("due", due_on))
    for number in range(1, policy.max_overdue_reminders + 1):
        on = due_on + timedelta(days=number * policy.overdue_every_days)
        stages.append(Stage(f"overdue-{number}", on, overdue=True))
    return stages


def _stages(due_on: date, policy: NudgePolicy, snoozed_until: date | None) -> list[Stage]:
    stages = regular_stages(due_on, policy)
    if snoozed_until is None:
        return stages
    # A snooze silences every stage before it and adds one reminder on the chosen day.
    later = [stage for stage in stages if stage.on >= snoozed_until]
    snooze = Stage(f"snooze-{snoozed_until.isoformat()}", snoozed_until, overdue=snoozed_until > due_on)
    return [snooze, *later]


def current_stage(due_on: date, policy: NudgePolicy, snoozed_until: date | None, today: date) -> Stage | None:
    """The stage to remind about today: the latest one that has started (a regular stage wins
    a tie with a snooze, so a snooze to the due day sends the due-day reminder once)."""
    started = [stage for stage in _stages(due_on, policy, snoozed_until) if stage.on <= today]
    if not started:
        return None
    latest = max(stage.on for stage in started)
    same_day = [stage for stage in started if stage.on == latest]
    regular = [stage for stage in same_day if not stage.name.startswith("snooze-")]
    return (regular or same_day)[-1]


def next_stage_on(due_on: date, policy: NudgePolicy, snoozed_until: date | None, after: date) -> date | None:
    """The first day after ``after`` on which a new stage starts (None: no reminder left)."""
    upcoming = [stage.on for stage in _stages(due_on, policy, snoozed_until) if stage.on > after]
    return min(upcoming) if upcoming else None


def first_stage_on(due_on: date, policy: NudgePolicy, snoozed_until: date | None = None) -> date | None:
    """When a new (or re-opened) assignment should first be considered by the sweep."""
    stages = _stages(due_on, policy, snoozed_until)
    return min(stage.on for stage in stages) if stages else None
