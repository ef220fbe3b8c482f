"""Upload in chat: a learning manager sends an export to Learnbot in a direct message.

Learnbot checks it and answers with the dry run (exactly what would change) and Apply / Cancel
buttons. Apply runs the same import as ``learnbot import`` and reports; the file is kept in
``lms_uploads`` only until then (or until it expires) and deleted after use. Only learning
managers may do this, and only for people in the offices they manage.
"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.events import FileShared, FileTooLarge
from bot.features.lms.apply import ImportRequest, apply_parsed, parse_stream
from bot.features.lms.parse import ImportRejected, Kind, Parsed
from bot.features.lms.presets import PRESETS
from bot.messages import Button, Buttons, Header, Message, Note, Text, plain
from bot.router import Context, Reply
from storage.lms import LmsUpload

logger = logging.getLogger(__name__)

APPLY_ACTION = "lms.apply"
CANCEL_ACTION = "lms.cancel"
KEEP_MINUTES = 30
SHOWN_IN_CHAT = 10
EXPORT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


def managed_offices(config: AppConfig, email: str | None) -> list[str]:
    """The offices this person is a learning manager of, in app.yaml's order."""
    if not email:
        return []
    return [office.id for office in config.offices if email.lower() in office.learning_managers]


def _request(config: AppConfig, offices: list[str], *, dry_run: bool) -> ImportRequest:
    kind: Kind = (
        "completions" if PRESETS[config.lms_import.preset].default_kind == "completions" else "transcript"
    )
    return ImportRequest(kind=kind, office_id=offices[0], scope=frozenset(offices), dry_run=dry_run)


async def _parse(data: bytes, name: str, config: AppConfig, request: ImportRequest) -> Parsed:
    """Parsing is pure CPU work: a thread keeps the bot answering others meanwhile."""
    return await asyncio.to_thread(parse_stream, io.BytesIO(data), name, config, request)


def _refused(ctx: Context) -> Message:
    managers = ", ".join(ctx.config.office(ctx.person.office_id).learning_managers)
    if managers:
        return plain(
            ctx._(
                "Sorry, only a learning manager can import LMS files. "
                "Please send it to your learning manager ({managers}).",
                managers=managers,
            )
        )
    return plain(ctx._("Sorry, only a learning manager can import LMS files."))


def _rejected(ctx: Context, name: str, rejected: ImportRejected) -> Message:
    """The first problems by line (a chat message is no place for hundreds), and what to do."""
    problems = rejected.problems
    shown = [str(problem) for problem in problems[:SHOWN_IN_CHAT]]
    if len(problems) > SHOWN_IN_CHAT:
        shown.append(
            ctx._(
                "... and {n} more (`learnbot import --dry-run` lists them all)",
                n=len(problems) - SHOWN_IN_CHAT,
            )
        )
    lines = "\n".join(f"• {line}" for line in shown)
    said = ctx.ngettext(
        "I checked {name}: nothing was imported; fix {n} problem and send it again:",
        "I checked {name}: nothing was imported; fix {n} problems and send it again:",
        len(problems),
        name=name,
    )
    return plain(f"{said}\n{lines}")


async def on_file(ctx: Context) -> Reply:
    event = ctx.event
    if not isinstance(event, FileShared) or not event.name.lower().endswith(EXPORT_SUFFIXES):
        return None
    offices = managed_offices(ctx.config, ctx.person.email)
    if not offices:
        return _refused(ctx)
    limit = ctx.config.lms_import.max_upload_mb * 1024 * 1024
    too_large = plain(
        ctx._(
            "{name} is larger than {mb} MB; export fewer columns.",
            name=event.name,
            mb=ctx.config.lms_import.max_upload_mb,
        )
    )
    if event.size > limit:
        return too_large
    try:
        data = await event.fetch(limit)
    except FileTooLarge:
        return too_large
    except Exception:
        logger.warning("could not download %s from %s", event.name, event.actor.platform, exc_info=True)
        return plain(ctx._("I couldn't download {name}. Please send it again in a minute.", name=event.name))
    request = _request(ctx.config, offices, dry_run=True)
    try:
        parsed = await _parse(data, event.name, ctx.config, request)
    except ImportRejected as rejected:
        return _rejected(ctx, event.name, rejected)
    result = await apply_parsed(ctx.app, ctx.session, parsed, request)
    now: datetime = ctx.now
    await purge_expired(ctx.session, now)
    upload = LmsUpload(
        person_id=ctx.person.id, name=event.name[:255], kind=request.kind, office_id=offices[0],
        data=data, created_at=now, expires_at=now + timedelta(minutes=KEEP_MINUTES),
    )  # fmt: skip
    ctx.session.add(upload)
    await ctx.session.flush()
    return Message(
        text=ctx._("Dry run of {name}: nothing is written until you press Apply.", name=event.name),
        blocks=[
            Header(ctx._("Dry run: {name}", name=event.name)),
            Text(result.summary(), markdown=False),
            Buttons(
                [
                    Button(ctx._("Apply"), APPLY_ACTION, str(upload.id), style="primary"),
                    Button(ctx._("Cancel"), CANCEL_ACTION, str(upload.id)),
                ]
            ),
            Note(
                ctx._(
                    "Nothing is written until you press Apply; the file is deleted after {minutes} minutes.",
                    minutes=KEEP_MINUTES,
                )
            ),
        ],
    )


async def _upload(ctx: Context, value: str) -> LmsUpload | None:
    upload = await ctx.session.get(LmsUpload, int(value)) if value.isdigit() else None
    if upload is None or upload.person_id != ctx.person.id:
        return None
    if upload.expires_at <= ctx.now:
        await ctx.session.delete(upload)
        return None
    return upload


async def apply_pressed(ctx: Context, value: str) -> Reply:
    upload = await _upload(ctx, value)
    if upload is None:
        return plain(
            ctx._("That file is no longer here (applied, cancelled or expired). Please send it again.")
        )
    offices = managed_offices(ctx.config, ctx.person.email)
    if not offices:
        return _refused(ctx)
    name, data = upload.name, upload.data
    await ctx.session.delete(upload)
    request = _request(ctx.config, offices, dry_run=False)
    try:
        parsed = await _parse(data, name, ctx.config, request)
    except ImportRejected as rejected:  # the configuration changed since the dry run
        return _rejected(ctx, name, rejected)
    result = await apply_parsed(ctx.app, ctx.session, parsed, request)
    logger.info("%s imported %s in chat: %s", ctx.person.email, name, result.summary())
    return Message(
        text=ctx._("Imported {name}.", name=name),
        blocks=[Header(ctx._("Imported {name}", name=name)), Text(result.summary(), markdown=False)],
    )


async def cancel_pressed(ctx: Context, value: str) -> Reply:
    upload = await _upload(ctx, value)
    if upload is not None:
        await ctx.session.delete(upload)
    return plain(ctx._("Cancelled: nothing was imported, and I deleted the file."))


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(LmsUpload).where(LmsUpload.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
