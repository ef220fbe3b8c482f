"""The deployment's configuration, read from ``app.yaml`` and validated with pydantic.

Every section is a strict model (unknown keys are errors), so a typo such as ``timzone``
is reported with its path instead of being silently ignored. Secrets never live here: tokens
and passwords come from environment variables (see :mod:`bot.settings`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from apscheduler.triggers.cron import CronTrigger
from dateutil.relativedelta import relativedelta
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# Each feature's section lives in its folder (bot/features/<name>/config.py) and is composed
# into AppConfig here: the one place the core imports from a feature (see the layers contract
# in pyproject.toml). Those modules import only pydantic, bot.config_base and their own rules.
from bot.config_base import Strict
from bot.features.learning_days.config import LearningDaysConfig, RecurringLearningDay
from bot.features.lms.config import ImportColumns, LmsSource
from bot.features.nudges.config import NudgePolicy
from bot.features.picks.config import Feed, PicksPolicy
from bot.features.skillshare.config import SkillshareSettings

__all__ = [
    "Feed",
    "ImportColumns",
    "LearningDaysConfig",
    "LmsSource",
    "NudgePolicy",
    "PicksPolicy",
    "RecurringLearningDay",
    "SkillshareSettings",
    "Strict",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RECURRENCE = re.compile(r"^every\s+(?:(\d+)\s+)?(day|week|month|year)s?$")


class ConfigError(Exception):
    """``app.yaml`` is invalid; ``problems`` holds one ``path: what is wrong`` line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source} is not valid:\n" + "\n".join(f"  {p}" for p in problems))


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else " (use an IANA name such as 'Africa/Nairobi')"
        raise ValueError(f"unknown time zone '{value}'{hint}") from None
    return value


def parse_recurrence(text: str) -> relativedelta | None:
    """``"every 2 years"`` -> ``relativedelta(years=2)``; ``"once"`` -> ``None``."""
    cleaned = text.strip().lower()
    if cleaned in {"once", "never", ""}:
        return None
    aliases = {
        "yearly": "every year",
        "annually": "every year",
        "monthly": "every month",
        "weekly": "every week",
        "daily": "every day",
    }
    cleaned = aliases.get(cleaned, cleaned)
    match = _RECURRENCE.match(cleaned)
    if not match:
        raise ValueError(f"'{text}' is not a recurrence; write e.g. 'every 2 years', 'yearly' or 'once'")
    count = int(match.group(1) or 1)
    unit = match.group(2)
    return relativedelta(
        days=count if unit == "day" else 0,
        weeks=count if unit == "week" else 0,
        months=count if unit == "month" else 0,
        years=count if unit == "year" else 0,
    )


class WorkingHours(Strict):
    start: time = time(9, 0)
    end: time = time(17, 0)
    weekend: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["sat", "sun"]

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Channel(Strict):
    """An office channel. Give its id on each platform it exists on."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = ""
    slack: str | None = None
    teams: str | None = None
    weekly_picks: bool = True
    learning_days: bool = True


def office_key(label: str) -> str:
    """How office labels are compared: case, accents, punctuation and spacing do not count,
    so "Cox's Bazar", "COXS BAZAR" and "coxs-bazar" are the same office, and "Bogotá" is
    "bogota" (LMS exports and chat profiles spell office names every which way)."""
    decomposed = unicodedata.normalize("NFKD", label)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in letters.casefold() if ch.isalnum())


def _check_emails(value: list[str]) -> list[str]:
    for email in value:
        if "@" not in email or email.strip() != email or " " in email:
            raise ValueError(f"'{email}' is not an email address")
    return [email.lower() for email in value]


class Office(Strict):
    """An office. ``aliases`` are the other names and codes it goes by (an LMS OU code such as
    ``SN-DKR``, a directory spelling such as ``Dakar``), matched case- and accent-insensitively
    by :meth:`AppConfig.office_for_label`."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    aliases: list[str] = []
    region: str = ""
    timezone: str = "UTC"
    locale: str = "en"
    learning_managers: list[str] = []
    channels: list[Channel] = []
    working_hours: WorkingHours = WorkingHours()

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _emails = field_validator("learning_managers")(classmethod(lambda cls, v: _check_emails(v)))

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        for alias in value:
            if not office_key(alias):
                raise ValueError(f"alias '{alias}' has no letters or digits")
        return value

    def labels(self) -> list[str]:
        """Every label this office answers to: its id, its name and its aliases."""
        return [self.id, self.name, *self.aliases]


class Directory(Strict):
    """Where a chat platform's profile says which office someone is in (optional).

    ``slack_office_field`` is a custom profile field of the Slack workspace, given by its id
    (``Xf06ABCDEF``) or its label (``Office``); it is read with ``users.profile.get`` (scope
    ``users.profile:read``) when Learnbot first meets someone. Its value is matched to an
    office like an import's office column."""

    slack_office_field: str | None = Field(default=None, min_length=1, max_length=100)


class Course(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str
    url: str = ""
    recurrence: str = "once"
    mandatory: bool = True
    aliases: list[str] = []
    """Other names or codes the LMS uses for this course (matched case- and accent-insensitively)."""

    @field_validator("recurrence")
    @classmethod
    def _recurrence(cls, value: str) -> str:
        parse_recurrence(value)
        return value


class Schedule(Strict):
    """A job run on a cron expression in a time zone (e.g. ``0 9 * * mon``)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    job: str
    cron: str
    timezone: str = "UTC"
    args: dict[str, Any] = {}

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))

    @model_validator(mode="after")
    def _cron(self) -> Schedule:
        try:
            CronTrigger.from_crontab(self.cron, timezone=self.timezone)
        except ValueError as exc:
            raise ValueError(f"cron '{self.cron}' is not valid: {exc}") from None
        return self


InDoubt = Literal["at_most_once", "at_least_once"]


class OutboxPolicy(Strict):
    """How the delivery worker behaves (``outbox:`` in app.yaml).

    A message gives up by its deadline, never by a count of tries: ``expire_hours`` per kind
    (the idempotency key's first part, e.g. ``nudge``), else ``default_expire_hours``; reminders
    (``nudge``) end with their day in the person's time zone. ``when_in_doubt`` says what an
    ambiguous send (a 5xx or a timeout after the platform may have posted) means where the
    platform cannot be read back (Teams): ``at_most_once`` records it unconfirmed,
    ``at_least_once`` sends it again."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    """No longer limits anything (messages expire by deadline); kept so older app.yaml files load."""
    lease_seconds: float = Field(default=60, gt=0)
    poll_seconds: float = Field(default=1.0, gt=0)
    waiting_days: float = Field(default=7, gt=0, le=90)
    """A message for someone not reachable yet waits this long (for linking, a Teams roster,
    the bot added to a team), then is recorded as expired."""
    waiting_recheck_minutes: float = Field(default=15, gt=0, le=1440)
    """How often a waiting message's destination is checked again (linking checks at once)."""
    concurrency: int = Field(default=16, ge=1, le=500)
    """Rows a worker has in hand at once; each holds at most one database connection at a time,
    so the pool is sized from it (PostgreSQL: replicas x (concurrency + 8) <= max_connections)."""
    send_timeout_seconds: float = Field(default=15.0, gt=0)
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    default_expire_hours: float = Field(default=72.0, gt=0)
    expire_hours: dict[str, float] = {}
    default_when_in_doubt: InDoubt = "at_most_once"
    when_in_doubt: dict[str, InDoubt] = {
        "nudge": "at_most_once",
        "learning-day-cancelled": "at_least_once",
    }

    def in_doubt(self, kind: str) -> InDoubt:
        return self.when_in_doubt.get(kind, self.default_when_in_doubt)


class SlackPolicy(Strict):
    """Pacing of Slack posts: chat.postMessage allows about one message per second per
    channel, plus a workspace-wide cap (Slack answers 429 beyond it)."""

    per_channel_per_second: float = Field(default=1.0, gt=0)
    workspace_per_minute: int = Field(default=300, ge=1)


class InboxPolicy(Strict):
    """Inbound requests wait in the inbox between the ack and their processing (``inbox:``).

    ``lease_seconds``: how long a process holds a request it is working on before another
    process may take it over (it extends the lease every third of it while it works), i.e.
    how long a request caught by a crash waits; ``poll_seconds``: how often every process
    looks for such requests."""

    lease_seconds: float = Field(default=15, gt=0)
    poll_seconds: float = Field(default=2.0, gt=0)


class AppConfig(Strict):
    bot_name: str = "Learnbot"
    default_office: str | None = None
    offices: list[Office] = Field(min_length=1)
    org_admins: list[str] = []
    """Emails of people who see every office: reports, learning days, confirmations."""
    directory: Directory = Directory()
    courses: list[Course] = []
    feeds: list[Feed] = []
    schedules: list[Schedule] = []
    nudges: NudgePolicy = NudgePolicy()
    lms_import: ImportColumns = ImportColumns()
    inbox: InboxPolicy = InboxPolicy()
    outbox: OutboxPolicy = OutboxPolicy()
    slack: SlackPolicy = SlackPolicy()
    picks: PicksPolicy = PicksPolicy()
    dialog_idle_minutes: int = Field(default=60, ge=1)
    skillshare: SkillshareSettings = SkillshareSettings()
    learning_days: LearningDaysConfig = LearningDaysConfig()

    _admins = field_validator("org_admins")(classmethod(lambda cls, v: _check_emails(v)))

    @model_validator(mode="after")
    def _references(self) -> AppConfig:
        office_ids = [office.id for office in self.offices]
        if len(set(office_ids)) != len(office_ids):
            raise ValueError(f"office ids must be unique, got {office_ids}")
        if self.default_office is not None and self.default_office not in office_ids:
            raise ValueError(f"default_office '{self.default_office}' is not one of {office_ids}")
        _check_office_labels(self.offices)
        self.learning_days.check_offices(office_ids)
        for index, source in enumerate(self.lms_import.sources):
            if source.office not in office_ids:
                raise ValueError(
                    f"lms_import.sources[{index}].office: '{source.office}' is not one of {office_ids}"
                )
        for section, ids in (
            ("courses", [c.id for c in self.courses]),
            ("feeds", [f.id for f in self.feeds]),
            ("schedules", [s.name for s in self.schedules]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{section}: ids must be unique, got {ids}")
        channels = {channel.key for office in self.offices for channel in office.channels}
        if self.nudges.kudos_channel is not None and self.nudges.kudos_channel not in channels:
            raise ValueError(f"nudges.kudos_channel: no channel with key '{self.nudges.kudos_channel}'")
        return self

    # -- look-ups used across the core -------------------------------------------------
    def office(self, office_id: str | None) -> Office:
        """The office with this id, or the default (first) office."""
        for office in self.offices:
            if office.id == office_id:
                return office
        for office in self.offices:
            if office.id == self.default_office:
                return office
        return self.offices[0]

    def is_learning_manager(self, email: str | None) -> bool:
        if not email:
            return False
        return any(email.lower() in office.learning_managers for office in self.offices)

    def is_org_admin(self, email: str | None) -> bool:
        return email is not None and email.lower() in self.org_admins

    def managed_office_ids(self, email: str | None) -> frozenset[str]:
        """The offices this person acts for as a manager: every office for an org admin, the
        offices that list them as learning manager otherwise (often none)."""
        if not email:
            return frozenset()
        if self.is_org_admin(email):
            return frozenset(office.id for office in self.offices)
        return frozenset(o.id for o in self.offices if email.lower() in o.learning_managers)

    def office_for_label(self, label: str | None) -> Office | None:
        """The office an import column, a directory field or a person means by ``label`` (its
        id, name or an alias, compared by :func:`office_key`), or None when none matches."""
        key = office_key(label or "")
        if not key:
            return None
        for office in self.offices:
            if any(office_key(known) == key for known in office.labels()):
                return office
        return None

    def course(self, course_id: str) -> Course | None:
        return next((c for c in self.courses if c.id == course_id), None)


def fold(text: str) -> str:
    """Lower case without accents or extra spaces: "  Bogotá Office" -> "bogota office"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


def _check_office_labels(offices: list[Office]) -> None:
    """Two offices must never answer to the same label, or an import row would be placed by
    luck; the error names the key to change."""
    owner: dict[str, str] = {}
    for index, office in enumerate(offices):
        for label in office.labels():
            key = office_key(label)
            if key in owner and owner[key] != office.id:
                raise ValueError(
                    f"offices[{index}].aliases: '{label}' also names office '{owner[key]}'; "
                    "each id, name and alias must point to one office"
                )
            owner[key] = office.id


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-") or part in {"function-after", "function-before"}:
            continue
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


_NAMES_ITS_KEY = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: ")
"""A message that starts with the dotted key it is about (checks across sections)."""


def _describe(error: dict[str, Any], model_fields: dict[str, list[str]]) -> str:
    loc = error["loc"]
    where = _location(loc)
    if error["type"] == "extra_forbidden":
        parent = ".".join(str(p) for p in loc[:-1] if isinstance(p, str))
        choices = model_fields.get(parent, [])
        close = difflib.get_close_matches(str(loc[-1]), choices, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"{where}: unknown key{hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if where == "(top level)" and _NAMES_ITS_KEY.match(message):
        return message  # a check across sections that already names the key it is about
    return f"{where}: {message}"


def _known_fields(
    model: type[BaseModel], prefix: str = "", out: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    """Map a dotted path (list indexes dropped) to the keys allowed there, for "did you mean"."""
    out = {} if out is None else out
    out[prefix] = list(model.model_fields)
    for name, info in model.model_fields.items():
        annotation = info.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                _known_fields(candidate, f"{prefix}.{name}" if prefix else name, out)
    return out


def parse_config(data: Any, source: str = "app.yaml") -> AppConfig:
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): expected a mapping of sections such as 'offices:'"])
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        fields = _known_fields(AppConfig)
        raise ConfigError(source, [_describe(e, fields) for e in exc.errors()]) from None  # type: ignore[arg-type]


def load_config(path: str | Path) -> AppConfig:
    """Read and validate a YAML file, raising :class:`ConfigError` with every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found (set LEARNBOT_CONFIG or pass --config)"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_config(data, str(path))
