"""Handlers of the basics feature, as module-level functions; ``register`` at the bottom is
the feature's whole registration table."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot import dialogs
from bot.errors import UserError
from bot.features.basics import store, texts
from bot.i18n import N_
from bot.messages import Message, plain
from bot.outbox import ToPerson
from bot.people import person_timezone
from bot.router import Context, Reply, Router
from storage.models import Person

if TYPE_CHECKING:
    from bot.core import Learnbot

SEEN_EVENTS_KEPT = timedelta(days=2)


async def show_help(ctx: Context, args: str) -> Reply:
    return ctx.app.help_message(ctx, command=args.strip().lstrip("/") or None)


async def me(ctx: Context, args: str) -> Reply:
    person = ctx.person
    office = ctx.config.office(person.office_id)
    accounts = ", ".join(sorted({a.platform for a in await person.awaitable_attrs.accounts}))
    zone = person_timezone(ctx.config, person)
    return texts.profile(
        ctx.t, person.name, person.email, office.name, ctx.is_learning_manager, zone, accounts
    )


async def set_timezone(ctx: Context, args: str) -> Reply:
    name = args.strip()
    if not name:
        return plain(
            ctx._(
                "Your time zone is {zone}. To change it: `/learning timezone Africa/Nairobi`.",
                zone=person_timezone(ctx.config, ctx.person),
            )
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            ctx._(
                "I don't know the time zone '{zone}'. Use a name like "
                "`Africa/Nairobi`, `Europe/Paris` or `America/Bogota`.",
                zone=name,
            )
        ) from None
    ctx.person.timezone = name
    ctx.person.updated_at = ctx.now
    return plain(ctx._("Done: your time zone is now {zone}.", zone=name))


async def home(ctx: Context, args: str) -> Reply:
    sections = await ctx.app.home(ctx)
    return sections or plain(ctx._("Nothing here yet. Type `help` to see what I can do."))


async def home_greeting(ctx: Context) -> list[Message]:
    return [texts.home_greeting(ctx.t, ctx.person.display_name)]


async def welcome(ctx: Context) -> Reply:
    message = texts.welcome(ctx.t, ctx.person.display_name, ctx.config.bot_name)
    await ctx.send(ToPerson(ctx.person.id), message, key=f"welcome:{ctx.person.id}")
    return None


async def expire_dialogs(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    """Tell people whose conversation went idle that it was set aside, then forget it."""
    now = app.clock.now()
    states = await dialogs.expired(session, now)
    for state in states:
        person = await session.get_one(Person, state.person_id)
        await app.plan(
            session,
            destination=ToPerson(state.person_id),
            message=app.expiry_note(state.dialog, app.translator_for(person)),
            key=f"dialog-expired:{state.person_id}:{state.updated_at.isoformat()}",
        )
        await session.delete(state)
    return f"{len(states)} idle conversation(s) expired"


async def forget_seen_events(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    count = await store.forget_seen_events(session, app.clock.now() - SEEN_EVENTS_KEPT)
    return f"forgot {count} old event id(s)"


def register(router: Router) -> None:
    router.describe("learning", N_("your courses, learning days, picks and settings"))
    router.command("learning", "help", help=N_("show this list"))(show_help)
    router.command(
        "learning", "me", help=N_("what I know about you (name, office, time zone, language)"), private=True
    )(me)
    router.command(
        "learning",
        "timezone",
        usage="<Area/City>",
        help=N_("set your time zone, so reminders come in your working hours"),
    )(set_timezone)
    router.command(
        "learning", "home", help=N_("your courses, learning days and offers in one place"), private=True
    )(home)
    router.home_section(0)(home_greeting)
    router.on_member_joined(welcome)
    router.job("expire_dialogs")(expire_dialogs)
    router.job("forget_seen_events")(forget_seen_events)
