"""The ``lms_sync`` job: pull each office's LMS export on a schedule and apply it.

A source (``lms_import.sources`` in app.yaml) is either an HTTPS URL answering a CSV or .xlsx
export, with a header whose value comes from an environment variable, or a Moodle site's web
services (``core_enrol_get_enrolled_users`` then ``core_completion_get_course_completion_status``
per learner, token from the environment). The file goes through the same import as the CLI and
the upload in chat, limited to the source's office. The office's learning managers hear about it
privately, and only when something needs attention: the source failed (an error status, a
timeout), the file was refused, or rows name offices Learnbot doesn't know.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, ImportColumns, LmsSource
from bot.features.lms.apply import ImportRequest, apply_parsed, parse_stream
from bot.features.lms.parse import ImportRejected
from bot.features.lms.summary import ImportResult
from bot.features.lms.upload import purge_expired
from bot.messages import Header, Message, Text
from bot.outbox import ToPerson
from bot.people import get_or_create_by_email

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

MOODLE_REST = "/webservice/rest/server.php"


class SourceFailed(Exception):
    """The source could not be read; the message says what to check."""


def _token(source: LmsSource) -> str:
    if not source.token_env:
        return ""
    value = os.environ.get(source.token_env, "")
    if not value:
        raise SourceFailed(f"the environment variable {source.token_env} (the source's token) is not set")
    return value


async def fetch_https(client: httpx.AsyncClient, source: LmsSource, max_bytes: int) -> bytes:
    token = _token(source)
    headers = {source.header: f"{source.token_prefix}{token}"} if token else {}
    try:
        response = await client.get(source.url, headers=headers)
    except httpx.TimeoutException:
        raise SourceFailed(f"{source.url} did not answer within {source.timeout_seconds:g} s") from None
    except httpx.HTTPError as exc:
        raise SourceFailed(f"{source.url} could not be reached ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise SourceFailed(f"{source.url} answered HTTP {response.status_code}")
    if len(response.content) > max_bytes:
        raise SourceFailed(f"{source.url} sent more than {max_bytes // (1024 * 1024)} MB")
    return response.content


async def _moodle(client: httpx.AsyncClient, source: LmsSource, function: str, **params: Any) -> Any:
    query = {"wstoken": _token(source), "wsfunction": function, "moodlewsrestformat": "json", **params}
    try:
        response = await client.get(source.url.rstrip("/") + MOODLE_REST, params=query)
    except httpx.TimeoutException:
        raise SourceFailed(
            f"Moodle at {source.url} did not answer within {source.timeout_seconds:g} s"
        ) from None
    except httpx.HTTPError as exc:
        raise SourceFailed(f"Moodle at {source.url} could not be reached ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise SourceFailed(f"Moodle at {source.url} answered HTTP {response.status_code} to {function}")
    data = response.json()
    if isinstance(data, dict) and "exception" in data:  # Moodle answers errors with HTTP 200
        raise SourceFailed(f"Moodle refused {function}: {data.get('errorcode')}: {data.get('message')}")
    return data


async def fetch_moodle(client: httpx.AsyncClient, source: LmsSource) -> bytes:
    """Completion status of every enrolled learner of each mapped course, as a generic CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "office", "course", "completed", "status"])
    for moodle_id, course_id in source.moodle_courses.items():
        users = await _moodle(client, source, "core_enrol_get_enrolled_users", courseid=moodle_id)
        for user in users:
            if not user.get("email"):
                continue
            status = await _moodle(
                client,
                source,
                "core_completion_get_course_completion_status",
                courseid=moodle_id,
                userid=user["id"],
            )
            writer.writerow(_moodle_row(user, course_id, status.get("completionstatus") or {}))
    return out.getvalue().encode("utf-8")


def _moodle_row(user: dict[str, Any], course_id: str, status: dict[str, Any]) -> list[str]:
    done = bool(status.get("completed"))
    times = [c.get("timecompleted") for c in status.get("completions") or [] if c.get("timecompleted")]
    completed = datetime.fromtimestamp(max(times), UTC).date().isoformat() if done and times else ""
    if done and not completed:
        done = False  # completed with no date recorded: left for the next pull
    return [
        str(user["email"]),
        str(user.get("fullname") or ""),
        str(user.get("department") or ""),
        course_id,
        completed,
        "completed" if done else "not completed",
    ]


def _config_for(config: AppConfig, source: LmsSource) -> AppConfig:
    """Moodle's pull is written in Learnbot's own column names and ISO dates."""
    if source.kind != "moodle":
        return config
    return config.model_copy(update={"lms_import": ImportColumns(preset="generic", sources=[])})


async def sync_source(
    app: Learnbot, session: AsyncSession, source: LmsSource
) -> tuple[str, ImportResult | None]:
    """Pull and apply one source; returns (a problem or "", the result)."""
    config = _config_for(app.config, source)
    limit = app.config.lms_import.max_upload_mb * 1024 * 1024
    request = ImportRequest(kind="transcript", office_id=source.office, scope=frozenset({source.office}))
    try:
        async with httpx.AsyncClient(timeout=source.timeout_seconds, follow_redirects=True) as client:
            data = await (
                fetch_moodle(client, source)
                if source.kind == "moodle"
                else fetch_https(client, source, limit)
            )
        name = "moodle.csv" if source.kind == "moodle" else source.url.rsplit("/", 1)[-1] or "export.csv"
        parsed = await asyncio.to_thread(parse_stream, io.BytesIO(data), name, config, request)
    except SourceFailed as failed:
        return str(failed), None
    except ImportRejected as rejected:
        return f"the export was refused: {rejected}", None
    result = await apply_parsed(app, session, parsed, request)
    return "", result


async def _tell_managers(app: Learnbot, session: AsyncSession, office_id: str, text: str) -> None:
    now = app.clock.now()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    for email in app.config.office(office_id).learning_managers:
        manager = await get_or_create_by_email(session, app.config, email, now)
        t = app.translator_for(manager)
        heading = t._("LMS sync needs your attention")
        message = Message(text=text, blocks=[Header(heading), Text(text, markdown=False)])
        key = f"lms-sync:{office_id}:{now.date().isoformat()}:{digest}"
        await app.plan(session, destination=ToPerson(manager.id), message=message, key=key)


async def run(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    """The job: every source (or those of ``args["office"]``)."""
    office = args.get("office")
    await purge_expired(session, app.clock.now())
    lines: list[str] = []
    for source in app.config.lms_import.sources:
        if office and source.office != office:
            continue
        problem, result = await sync_source(app, session, source)
        where = f"{source.office} ({source.kind} {source.url})"
        if problem:
            logger.warning("lms_sync %s: %s", where, problem)
            await _tell_managers(
                app, session, source.office, f"I couldn't import the LMS export for {where}: {problem}"
            )
            lines.append(f"{source.office}: failed")
            continue
        assert result is not None
        if result.needs_attention():
            await _tell_managers(
                app, session, source.office, f"LMS export for {where} imported:\n{result.summary()}"
            )
        lines.append(
            f"{source.office}: {result.rows} row(s), {result.created} created, {result.completed} completed"
        )
    return "; ".join(lines) or "no LMS sources configured"
