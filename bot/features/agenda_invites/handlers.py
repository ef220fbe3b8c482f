"""Inviting a skillshare offer onto a learning day's agenda.

It joins two features (skillshare owns offers, learning days own the agenda), so it lives in its
own small module instead of making either import the other. A learning manager presses
"Invite to a learning day" on an offer in ``/skillshare all``, picks one of the office's upcoming
days, and the offer becomes an agenda session; the colleague who offered it hears so privately.
"""

from __future__ import annotations

import logging

from bot.errors import UserError
from bot.features.agenda_invites import actions, store
from bot.features.learning_days.store import add_agenda_session
from bot.features.learning_days.store import upcoming as upcoming_days
from bot.features.skillshare.actions import INVITE
from bot.messages import Button, Buttons, Message, Note, Text, plain
from bot.outbox import ToPerson
from bot.router import Context, Reply, Router
from bot.scope import other_office_refusal
from storage.models import Person
from storage.skillshare import OfferStatus, SkillOffer

logger = logging.getLogger(__name__)

MAX_DAYS_SHOWN = 5


async def _active_offer(ctx: Context, offer_id: str) -> SkillOffer:
    offer = await store.offer(ctx.session, int(offer_id)) if offer_id.isdigit() else None
    if offer is None or offer.status != OfferStatus.ACTIVE:
        raise UserError(ctx._("That offer is no longer active, so it can't go on an agenda."))
    return offer


def _refuse_unless_manager(ctx: Context) -> None:
    if not ctx.is_learning_manager:
        raise UserError(ctx._("Sorry, only a learning manager can put an offer on a learning day's agenda."))


async def _managed_offer(ctx: Context, offer_id: str) -> SkillOffer:
    """An active offer of an office this manager manages (its learning days are theirs)."""
    _refuse_unless_manager(ctx)
    offer = await _active_offer(ctx, offer_id)
    if not ctx.manages(offer.office_id):
        raise UserError((await other_office_refusal(ctx.session, ctx.config, offer.office_id, ctx.t)).text)
    return offer


async def choose_day(ctx: Context, value: str) -> Reply:
    """The "Invite to a learning day" button on an offer: which of the office's upcoming days?"""
    offer = await _managed_offer(ctx, value)
    days = (await upcoming_days(ctx.session, offer.office_id, ctx.now))[:MAX_DAYS_SHOWN]
    if not days:
        return plain(
            ctx._(
                "There is no learning day coming up in that office yet. Schedule one with "
                "`/learning day schedule`, then invite the offer again."
            ),
            dm=True,
        )
    question = ctx._("Which learning day should “{skill}” join?", skill=offer.skill)
    return Message(
        text=question,
        blocks=[
            Text(question, markdown=False),
            Buttons(
                [
                    Button(
                        f"{ctx.t.date(day.date, 'EEE d MMM')}: {day.title}"[:75],
                        actions.PICK_DAY,
                        f"{offer.id}:{day.id}",
                    )
                    for day in days
                ]
            ),
            Note(ctx._("The colleague who offered it will be told privately.")),
        ],
        dm=True,
    )


async def invite(ctx: Context, value: str) -> Reply:
    """A day was picked: the offer becomes an agenda session and its author hears so."""
    offer_id, _, day_id = value.partition(":")
    offer = await _managed_offer(ctx, offer_id)
    days = await upcoming_days(ctx.session, offer.office_id, ctx.now)
    if not day_id.isdigit() or int(day_id) not in {d.id for d in days}:
        # the offer's own office's upcoming days only: a day elsewhere is not this manager's
        raise UserError(ctx._("That button is out of date; press “Invite to a learning day” again."))
    await add_agenda_session(
        ctx.session,
        day_id=int(day_id),
        title=offer.skill,
        presenter_person_id=offer.person_id,
        source="skillshare",
        now=ctx.now,
    )
    day = next((d for d in days if d.id == int(day_id)), None)
    author = await ctx.session.get_one(Person, offer.person_id)
    t = ctx.app.translator_for(author)
    on = f"{t.day(day.date)} ({day.title})" if day else t._("the learning day")
    said = t._(
        "Good news: your skillshare offer “{skill}” is on the agenda of {when}.", skill=offer.skill, when=on
    )
    await ctx.send(
        ToPerson(offer.person_id),
        Message(
            text=said,
            blocks=[Text(said, markdown=False), Note(t._("See the agenda with `/learning days`."))],
        ),
        key=f"skillshare-invite:{offer.id}:{day_id}",
    )
    logger.info("offer %s invited onto learning day %s", offer.id, day_id)
    here = f"{ctx.t.day(day.date)} ({day.title})" if day else ctx._("the learning day")
    return plain(
        ctx._("Added “{skill}” to the agenda of {when}; I've let them know.", skill=offer.skill, when=here),
        dm=True,
    )


def register(router: Router) -> None:
    router.action(INVITE, private=True)(choose_day)
    router.action(actions.PICK_DAY, private=True)(invite)
