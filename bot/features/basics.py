"""What every Learnbot has: help, a person's profile and home, the welcome message, and the
housekeeping jobs (expiring idle dialogs, forgetting old inbound event ids)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot import dialogs
from bot.errors import UserError
from bot.messages import Fields, Header, Message, Note, Text, plain
from bot.outbox import ToPerson
from bot.people import person_timezone
from bot.router import Context, Reply, Router
from storage.models import SeenEvent

if TYPE_CHECKING:
    from bot.core import Learnbot

SEEN_EVENTS_KEPT = timedelta(days=2)


def help_text(router: Router, bot_name: str, *, command: str | None, note: str, manager: bool) -> Message:
    lines: list[str] = []
    names = [command] if command else sorted(router.commands)
    for name in names:
        if not command and name in router.command_help:
            lines.append(f"*/{name}* — {router.command_help[name]}")
        for sub in router.commands.get(name, {}).values():
            if sub.managers_only and not manager:
                continue
            usage = f" {sub.usage}" if sub.usage else ""
            label = f"/{name} {sub.name}".rstrip()
            lines.append(f"• `{label}{usage}` — {sub.help}")
    header = (
        f"Here's what I can do in /{command}:" if command else f"Hi, I'm {bot_name}. Here's what I can do:"
    )
    body = "\n".join(lines)
    text = f"{note}\n{header}\n{body}" if note else f"{header}\n{body}"
    blocks: list[Any] = []
    if note:
        blocks.append(Text(note))
    blocks += [
        Text(header),
        Text(body or "(nothing yet)"),
        Note("In a direct message you can type commands without the slash, e.g. `learning help`."),
    ]
    return Message(text=text, blocks=blocks)


def register(router: Router) -> None:
    router.describe("learning", "your courses, learning days, picks and settings")

    @router.command("learning", "help", help="show this list")
    async def _help(ctx: Context, args: str) -> Reply:
        return ctx.app.help_message(ctx, command=args.strip().lstrip("/") or None)

    @router.command("learning", "me", help="what I know about you (name, office, time zone)")
    async def _me(ctx: Context, args: str) -> Reply:
        person = ctx.person
        office = ctx.config.office(person.office_id)
        accounts = ", ".join(sorted({a.platform for a in await person.awaitable_attrs.accounts}))
        role = "learning manager" if ctx.is_learning_manager else "colleague"
        return Message(
            text=f"{person.name} ({person.email or 'no email'}), {office.name}",
            blocks=[
                Header("Your profile"),
                Fields(
                    [
                        ("Name", person.name),
                        ("Email", person.email or "unknown"),
                        ("Office", office.name),
                        ("Role", role),
                        ("Time zone", person_timezone(ctx.config, person)),
                        ("Platforms", accounts or "none"),
                    ]
                ),
                Note("Wrong time zone? `/learning timezone Africa/Nairobi`"),
            ],
        )

    @router.command(
        "learning",
        "timezone",
        usage="<Area/City>",
        help="set your time zone, so reminders come in your working hours",
    )
    async def _timezone(ctx: Context, args: str) -> Reply:
        name = args.strip()
        if not name:
            return plain(
                f"Your time zone is {person_timezone(ctx.config, ctx.person)}. "
                "To change it: `/learning timezone Africa/Nairobi`."
            )
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(
                f"I don't know the time zone '{name}'. Use a name like "
                "`Africa/Nairobi`, `Europe/Paris` or `America/Bogota`."
            ) from None
        ctx.person.timezone = name
        ctx.person.updated_at = ctx.now
        return plain(f"Done: your time zone is now {name}.")

    @router.command("learning", "home", help="your courses, learning days and offers in one place")
    async def _home(ctx: Context, args: str) -> Reply:
        sections = await ctx.app.home(ctx)
        return sections or plain("Nothing here yet. Type `help` to see what I can do.")

    @router.home_section(0)
    async def _home_greeting(ctx: Context) -> list[Message]:
        name = ctx.person.display_name or "there"
        return [
            Message(
                text=f"Hi {name}", blocks=[Header(f"Hi {name}"), Text("Here's your learning at a glance.")]
            )
        ]

    @router.on_member_joined
    async def _welcome(ctx: Context) -> Reply:
        name = ctx.person.display_name or "there"
        welcome = Message(
            text=f"Welcome, {name}! I'm {ctx.config.bot_name}.",
            blocks=[
                Header(f"Welcome, {name}!"),
                Text(
                    f"I'm {ctx.config.bot_name}. Each week I share a few talks and articles, "
                    "I'll remind you (privately) when a mandatory course is due, and I help "
                    "colleagues teach each other through skillshare."
                ),
                Note("Type `help` any time to see what I can do."),
            ],
        )
        await ctx.send(ToPerson(ctx.person.id), welcome, key=f"welcome:{ctx.person.id}")
        return None

    @router.job("expire_dialogs")
    async def _expire_dialogs(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
        """Tell people whose conversation went idle that it was set aside, then forget it."""
        now = app.clock.now()
        states = await dialogs.expired(session, now)
        for state in states:
            await app.plan(
                session,
                destination=ToPerson(state.person_id),
                message=app.expiry_note(state.dialog),
                key=f"dialog-expired:{state.person_id}:{state.updated_at.isoformat()}",
            )
            await session.delete(state)
        return f"{len(states)} idle conversation(s) expired"

    @router.job("forget_seen_events")
    async def _forget_seen(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
        cutoff = app.clock.now() - SEEN_EVENTS_KEPT
        result = await session.execute(delete(SeenEvent).where(SeenEvent.seen_at < cutoff))
        return f"forgot {result.rowcount} old event id(s)"  # type: ignore[attr-defined]
