"""Running an import: parse -> plan -> apply, in one transaction (all or nothing).

Structural problems (a missing column, a bad email or date on a mandatory row, conflicting
rows) reject the whole file before anything is written. A dry run does the same work and rolls
back, so its summary is exactly what applying would do. The CLI, the upload in chat and the
scheduled pull all come through :func:`import_stream`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, parse_recurrence
from bot.features.lms import store
from bot.features.lms.parse import ImportRejected, Kind, Parsed, Problem, parse_table
from bot.features.lms.plan import (
    AssignmentPlan,
    PeoplePlan,
    Rules,
    as_date,
    chunks_of_people,
    groups,
    plan_assignments,
    plan_people,
)
from bot.features.lms.read import Unreadable, open_table
from bot.features.lms.summary import ImportResult
from bot.features.nudges import texts
from bot.features.nudges.outcomes import course_of, record_completion
from bot.outbox import ToPerson
from storage.models import Person
from storage.nudges import Source

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

CHUNK_PEOPLE = 900
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage "read" counts bytes, "write" counts people."""


@dataclass(frozen=True, slots=True)
class ImportRequest:
    kind: Kind = "transcript"
    office_id: str | None = None
    """The office whose language and date order read the dates (default: the default office)."""
    scope: frozenset[str] | None = None
    """Offices the person importing may change (``None``: all, as on the server's shell)."""
    dry_run: bool = False


def rules_for(config: AppConfig, kind: Kind, now: datetime, office_id: str | None) -> Rules:
    today = now.astimezone(ZoneInfo(config.office(office_id).timezone)).date()
    return Rules(
        kind=kind,
        recurrences={course.id: parse_recurrence(course.recurrence) for course in config.courses},
        thank_from=now.date() - timedelta(days=config.nudges.thank_imported_within_days),
        today=today + timedelta(days=1),  # any office's today: the furthest time zone is a day ahead
    )


def parse_stream(
    stream: BinaryIO, name: str, config: AppConfig, request: ImportRequest, progress: Progress | None = None
) -> Parsed:
    """Read and check the whole file (no database); raises :class:`ImportRejected`."""
    try:
        table = open_table(stream, name)
    except Unreadable as exc:
        raise ImportRejected([Problem(0, str(exc))]) from None
    on_row = None if progress is None else (lambda _rows, position: progress("read", position, table.size))
    return parse_table(table, request.kind, config, office_id=request.office_id, progress=on_row)


async def apply_parsed(
    app: Learnbot,
    session: AsyncSession,
    parsed: Parsed,
    request: ImportRequest,
    progress: Progress | None = None,
) -> ImportResult:
    """Plan and write, one chunk of people at a time, in the caller's transaction (a dry run
    reads the same records and plans the same way, but writes nothing)."""
    config, now = app.config, app.clock.now()
    rules = rules_for(config, request.kind, now, request.office_id)
    result = ImportResult(
        rows=parsed.rows,
        not_mandatory=parsed.not_mandatory,
        not_completed=parsed.not_completed,
        duplicates=parsed.duplicates,
        dry_run=request.dry_run,
    )
    thanks: list[tuple[int, str, date]] = []
    total = -(-sum(1 for positions in parsed.rows_of if positions) // CHUNK_PEOPLE)
    for number, people in enumerate(chunks_of_people(parsed, CHUNK_PEOPLE), start=1):
        await _apply_chunk(app, session, parsed, people, request, rules, result, thanks)
        if progress is not None:
            progress("write", number, total)
    await _thank(app, session, thanks)
    result.new_people.sort()
    result.not_in_chat.sort()
    result.out_of_scope.sort()
    return result


async def _thank(app: Learnbot, session: AsyncSession, thanks: list[tuple[int, str, date]]) -> None:
    """Thank people for recent completions (the rows are already written, next rounds too).

    Someone who opted in to kudos goes through the nudges feature's own ``record_completion``
    (thanks and the public kudos); everyone else just gets the same thank-you, under the same
    idempotency key, without its per-row queries (a first import may thank hundreds)."""
    recent = await store.assignments_at(session, thanks)
    people = sorted({assignment.person_id for assignment in recent})
    await store.prefetch_people(session, people)
    celebrated = await store.kudos_opted_in(session, people)
    for assignment in recent:
        if assignment.completed_on is None:
            continue
        if assignment.person_id in celebrated:
            await record_completion(app, session, assignment, assignment.completed_on, Source.LMS, thank=True)
            continue
        await app.plan(
            session,
            destination=ToPerson(assignment.person_id),
            message=texts.thanks(
                app.translator_for(await session.get_one(Person, assignment.person_id)),
                course_of(app.config, assignment),
            ),
            key=f"nudge-thanks:{assignment.id}",
        )


async def _apply_chunk(
    app: Learnbot, session: AsyncSession, parsed: Parsed, people: list[int],
    request: ImportRequest, rules: Rules, result: ImportResult, thanks: list[tuple[int, str, date]],
) -> None:  # fmt: skip
    config, now = app.config, app.clock.now()
    emails = [parsed.emails[position] for position in people]
    stored = await store.load_people(session, emails)
    people_plan = plan_people(parsed, people, stored, config, request.scope, request.office_id)
    ids = {email: person.id for email, person in stored.items() if email not in people_plan.out_of_scope}
    if request.dry_run:  # plan only: people not stored yet get stand-in ids below zero
        ids.update({email: -index for index, (email, _, _) in enumerate(people_plan.new, start=1)})
    else:
        await store.write_people(session, people_plan, now)
        if people_plan.new:
            stored = await store.load_people(session, [email for email, _, _ in people_plan.new])
            ids.update({email: person.id for email, person in stored.items()})
    chatting = await store.linked(session, list(ids.values()))
    existing = await store.load_slots(session, list(ids.values()))
    plan = AssignmentPlan()
    for (person, course), positions in groups(parsed, people).items():
        person_id = ids.get(parsed.emails[person])
        if person_id is None:
            continue
        course_id = parsed.course_ids[course]
        dated = [(parsed.line[p], as_date(parsed.due[p]), as_date(parsed.done[p])) for p in positions]
        plan_assignments(dated, existing.get((person_id, course_id), []), person_id, course_id, rules, plan)
    if not request.dry_run:
        await store.write_assignments(session, plan, config.nudges, now)
        thanks.extend(plan.thank)
    _count(result, people_plan, plan, ids, chatting)


def _count(
    result: ImportResult, people: PeoplePlan, plan: AssignmentPlan, ids: dict[str, int], chatting: set[int]
) -> None:
    result.created += len(plan.create) - plan.next_rounds
    result.next_rounds += plan.next_rounds
    result.updated += len(plan.moved)
    result.completed += len(plan.completed)
    result.unchanged += plan.unchanged
    result.new_people.extend(email for email, _, _ in people.new)
    result.renamed += len(people.renamed)
    result.moved_office += len(people.moved)
    result.unknown_offices.update(people.unknown_offices)
    result.out_of_scope.extend(people.out_of_scope)
    result.not_in_chat.extend(email for email, person_id in ids.items() if person_id not in chatting)


async def import_stream(
    app: Learnbot, stream: BinaryIO, name: str, request: ImportRequest, progress: Progress | None = None
) -> ImportResult:
    """Check the file, then apply it in one transaction (``dry_run``: plan only, write nothing)."""
    parsed = parse_stream(stream, name, app.config, request, progress)
    async with app.sessions() as session:  # closing without commit rolls back on any error
        result = await apply_parsed(app, session, parsed, request, progress)
        if not request.dry_run:
            await session.commit()
    logger.info("imported %s%s: %s", name, " (dry run)" if request.dry_run else "", result.summary())
    return result


async def import_text(app: Learnbot, text: str, kind: Kind, *, dry_run: bool = False) -> ImportResult:
    """Import CSV text (tests and small scripts)."""
    import io

    request = ImportRequest(kind=kind, dry_run=dry_run)
    return await import_stream(app, io.BytesIO(text.encode("utf-8")), "import.csv", request)
