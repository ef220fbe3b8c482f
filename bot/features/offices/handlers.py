"""Which office people are in: ``/learning office`` (see yours, or choose it once) and
``/learning move`` (a learning manager places someone), both through
:func:`bot.people.assign_office`, which also serves the LMS import and the chat directory.

Precedence (see :class:`bot.people.OfficeSource`): import > directory > manager > the person's
own choice > the default office. A person chooses once, while still unplaced, and their new
office's learning managers are told; a manager corrects anyone placed by default or by their
own choice, but is pointed to the LMS (or the directory) for people placed from there.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from bot.config import AppConfig, Office
from bot.i18n import N_, Translator
from bot.messages import Fields, Header, Message, Note, Text, plain
from bot.outbox import ToPerson
from bot.people import OfficeSource, assign_office, may_place, office_source, person_by_email
from bot.router import Context, Reply, Router
from bot.scope import names_for, recipients_for
from storage.models import Person

logger = logging.getLogger(__name__)

SOURCE_WORDS = {
    OfficeSource.IMPORT: N_("the LMS import"),
    OfficeSource.DIRECTORY: N_("your chat profile"),
    OfficeSource.MANAGER: N_("a learning manager"),
    OfficeSource.SELF: N_("you"),
    OfficeSource.DEFAULT: N_("default (nobody has said yet)"),
}
WHERE_TO_FIX = {
    OfficeSource.IMPORT: N_(
        "it comes from the LMS import, so fix the office in the LMS (or the import's "
        "office column); otherwise the next import moves them back"
    ),
    OfficeSource.DIRECTORY: N_(
        "it comes from their chat profile's office field, so fix it there; "
        "otherwise the next look-up moves them back"
    ),
}


def office_list(config: AppConfig) -> str:
    return ", ".join(
        f"{o.name} (`{o.id}`{', ' + ', '.join(o.aliases) if o.aliases else ''})" for o in config.offices
    )


def _unknown_office(ctx: Context, label: str) -> Message:
    return plain(
        ctx._(
            "I don't know an office called '{label}'. The offices are: {offices}.",
            label=label,
            offices=office_list(ctx.config),
        )
    )


async def show_office(ctx: Context) -> Message:
    person = ctx.person
    office = ctx.config.office(person.office_id)
    source = office_source(person)
    listed = source is OfficeSource.DEFAULT and (person.email or "") in office.learning_managers
    set_by = ctx._("app.yaml (you are its learning manager)") if listed else ctx._(SOURCE_WORDS[source])
    if may_place(person, OfficeSource.SELF):
        hint = ctx._("If that's not where you work, tell me once: `/learning office <name>`.")
    else:
        managers = ", ".join(await names_for(ctx.session, office.learning_managers)) or ctx._(
            "your learning manager"
        )
        hint = ctx._("If that's wrong, ask {managers} to move you.", managers=managers)
    here = ctx._("You're in {office}.", office=office.name)
    return Message(
        text=here,
        blocks=[
            Header(ctx._("Your office")),
            Text(here),
            Fields([(ctx._("Office"), office.name), (ctx._("Set by"), set_by)]),
            Note(ctx._("{hint} Offices: {offices}", hint=hint, offices=office_list(ctx.config))),
        ],
        private=True,
    )


async def choose_office(ctx: Context, args: str) -> Reply:
    """``/learning office [name]``: show the person's office, or let them choose it once."""
    label = args.strip()
    if not label:
        return await show_office(ctx)
    office = ctx.config.office_for_label(label)
    if office is None:
        return _unknown_office(ctx, label)
    person = ctx.person
    if office.id == person.office_id and office_source(person) is not OfficeSource.DEFAULT:
        return plain(ctx._("You're already in {office}.", office=office.name), private=True)
    placement = assign_office(ctx.config, person, office.id, OfficeSource.SELF, ctx.now)
    if not placement.applied:
        current = ctx.config.office(person.office_id)
        managers = ", ".join(await names_for(ctx.session, current.learning_managers)) or ctx._(
            "your learning manager"
        )
        return plain(
            ctx._(
                "Your office ({office}) was already set by {by}, so I can't change it from here. "
                "If it's wrong, ask {managers} to move you.",
                office=current.name,
                by=ctx._(SOURCE_WORDS[office_source(person)]),
                managers=managers,
            ),
            private=True,
        )
    told = await _tell_managers(ctx, person, office, placement.previous_office)
    return plain(ctx._("Thanks! You're now in {office}.", office=office.name) + told, private=True)


async def _tell_managers(ctx: Context, person: Person, office: Office, previous: str | None) -> str:
    recipients = await recipients_for(ctx.session, ctx.config, person, ctx.now)
    if not recipients.people:
        return " " + ctx._("(Your office has no learning manager to tell yet.)")
    for manager in recipients.people:
        note = plain(_self_placed(ctx.app.translator_for(manager), ctx.config, person, office, previous))
        await ctx.send(ToPerson(manager.id), note, key=f"office-self:{person.id}:{office.id}:{manager.id}")
    return " " + ctx._("I've let {names} know.", names=", ".join(m.name for m in recipients.people))


def _self_placed(
    t: Translator, config: AppConfig, person: Person, office: Office, previous: str | None
) -> str:
    """What a learning manager is told when someone says which office they work in."""
    move = f"`/learning move {person.email or person.name} <office>`"
    if previous and previous != office.id:
        return t._(
            "{name} says they work in {office} (was {previous}). If that's wrong: {move}.",
            name=person.name,
            office=office.name,
            previous=config.office(previous).name,
            move=move,
        )
    return t._(
        "{name} says they work in {office}. If that's wrong: {move}.",
        name=person.name,
        office=office.name,
        move=move,
    )


async def find_person(ctx: Context, who: str) -> Person | None:
    """A person by email, or by their exact name when only one person has it."""
    if "@" in who:
        return await person_by_email(ctx.session, who.strip("<>").removeprefix("mailto:"))
    matches = list(
        await ctx.session.scalars(select(Person).where(func.lower(Person.display_name) == who.lower()))
    )
    return matches[0] if len(matches) == 1 else None


def split_move_args(config: AppConfig, args: str) -> tuple[str, str]:
    """``amina@example.org Cox's Bazar`` or ``Amina Diallo dakar`` -> (who, office label):
    the longest tail that names an office, else the last word."""
    words = args.split()
    if words and "@" in words[0]:
        return words[0], " ".join(words[1:])
    for cut in range(1, len(words)):
        if config.office_for_label(" ".join(words[cut:])) is not None:
            return " ".join(words[:cut]), " ".join(words[cut:])
    return " ".join(words[:-1]), " ".join(words[-1:])


async def move_person(ctx: Context, args: str) -> Reply:
    """``/learning move <email or name> <office>`` for learning managers."""
    who, label = split_move_args(ctx.config, args)
    if not who or not label:
        return plain(
            ctx._("Usage: `/learning move <email> <office>`, e.g. `/learning move amina@example.org dakar`.")
        )
    office = ctx.config.office_for_label(label)
    if office is None:
        return _unknown_office(ctx, label)
    person = await find_person(ctx, who)
    if person is None:
        return plain(
            ctx._(
                "I don't know anyone as '{who}' yet. People appear once they have talked to me or "
                "were imported from the LMS; use their email.",
                who=who,
            )
        )
    refusal = _move_refusal(ctx, person, office)
    if refusal:
        return plain(refusal, private=True)
    placement = assign_office(ctx.config, person, office.id, OfficeSource.MANAGER, ctx.now)
    if not placement.applied:
        where = ctx._(WHERE_TO_FIX.get(office_source(person), N_("it was set by a stronger source")))
        return plain(
            ctx._(
                "I left {name} in {office}: {where}.",
                name=person.name,
                office=ctx.config.office(person.office_id).name,
                where=where,
            ),
            private=True,
        )
    if person.id != ctx.person.id and placement.moved:
        t = ctx.app.translator_for(person)
        note = plain(
            t._(
                "{name} has placed you in {office}. If that's wrong, tell them.",
                name=ctx.person.name,
                office=office.name,
            )
        )
        await ctx.send(
            ToPerson(person.id), note, key=f"office-moved:{person.id}:{office.id}:{ctx.now.isoformat()}"
        )
    return plain(
        ctx._("Done: {name} is now in {office}.", name=person.name, office=office.name), private=True
    )


def _move_refusal(ctx: Context, person: Person, office: Office) -> str:
    """A manager moves people of an office they manage; anyone still unplaced (default) may be
    claimed into an office they manage. Org admins move anyone."""
    if ctx.manages(person.office_id):
        return ""
    if office_source(person) is OfficeSource.DEFAULT and ctx.manages(office.id):
        return ""
    current = ctx.config.office(person.office_id)
    return ctx._(
        "Sorry, {name} is in {office}, which you don't manage, so I left them there. "
        "Its learning manager can move them.",
        name=person.name,
        office=current.name,
    )


COMMANDS = (
    ("office", choose_office, "[name]", N_("see your office, or tell me which office you work in"), False),
    ("move", move_person, "<email> <office>", N_("place a colleague in an office"), True),
)


def register(router: Router) -> None:
    for name, handler, usage, help_text, managers_only in COMMANDS:
        router.command("learning", name, help=help_text, usage=usage, managers_only=managers_only)(handler)
