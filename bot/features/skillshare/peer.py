"""Peer assist: people list what they need help with and what they can help with; each round
(the ``peer_pairing`` job, e.g. weekly) proposes pairs, and later asks "did you meet?".

Rounds are unique per office and period, and every message has an idempotent outbox key, so
running the job twice, or on two replicas, proposes and sends nothing twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from itertools import combinations
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Office
from bot.errors import UserError
from bot.features.skillshare import actions
from bot.features.skillshare import text as usertext
from bot.features.skillshare.pairing import Candidate, pair_key, propose
from bot.features.skillshare.views import contact
from bot.i18n import N_, Translator
from bot.messages import Button, Buttons, Fields, Header, Message, Note, Text, plain
from bot.outbox import ToPerson
from bot.router import Context, Reply
from storage.models import Person
from storage.skillshare import PeerPairing, PeerPairMember, PeerProfile, PeerRound

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

USAGE = N_(
    "Peer assist pairs you with a colleague each round: you help with what you know, they help "
    "with what you need.\n"
    "• `/skillshare peer needs <what you'd like help with>`\n"
    "• `/skillshare peer strengths <what you can help with>`\n"
    "• `/skillshare peer pause` / `/skillshare peer resume`\n"
    "• `/skillshare peer leave` (forgets your needs and strengths)"
)


def period_of(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


async def profile_of(ctx: Context) -> PeerProfile | None:
    return await ctx.session.get(PeerProfile, ctx.person.id)


def describe(t: Translator, profile: PeerProfile | None, intro: str = "") -> Message:
    if profile is None:
        return Message(text=t._(USAGE), blocks=[Header(t._("Peer assist")), Text(t._(USAGE))])
    status = t._("paused (you won't be paired)") if profile.paused else t._("taking part in the next round")
    return Message(
        text=f"{intro} " + t._("Peer assist: {status}", status=status),
        blocks=[
            *([Text(intro)] if intro else []),
            Header(t._("Your peer-assist profile")),
            Fields(
                [
                    (t._("Needs"), profile.needs or t._("— (add with `/skillshare peer needs ...`)")),
                    (
                        t._("Strengths"),
                        profile.strengths or t._("— (add with `/skillshare peer strengths ...`)"),
                    ),
                    (t._("Status"), status),
                ]
            ),
            Note(t._("`/skillshare peer pause` to skip rounds, `/skillshare peer resume` to come back.")),
        ],
    )


async def command(ctx: Context, args: str) -> Reply:
    word, _, rest = args.strip().partition(" ")
    word = word.lower()
    profile = await profile_of(ctx)
    if word in {"", "status", "me"}:
        return describe(ctx.t, profile)
    if profile is not None:
        # Follow the person if they moved office: rounds are per office.
        profile.office_id = ctx.config.office(ctx.person.office_id).id
    if word in {"need", "needs", "strength", "strengths"}:
        if not rest.strip():
            return plain(
                ctx._(
                    "Please say what, e.g. `/skillshare peer {word} budgeting, public speaking`.", word=word
                )
            )
        value = usertext.clean(ctx.t, rest, usertext.PEER_TEXT)
        if profile is None:
            profile = PeerProfile(
                person_id=ctx.person.id,
                office_id=ctx.config.office(ctx.person.office_id).id,
                needs="",
                strengths="",
                paused=False,
                created_at=ctx.now,
                updated_at=ctx.now,
            )
            ctx.session.add(profile)
        if word.startswith("need"):
            profile.needs = value
        else:
            profile.strengths = value
        profile.updated_at = ctx.now
        await ctx.session.flush()
        return describe(ctx.t, profile, intro=ctx._("Saved."))
    if word in {"pause", "resume"}:
        if profile is None:
            raise UserError(ctx._("You're not in peer assist yet. Start with `/skillshare peer needs ...`."))
        profile.paused = word == "pause"
        profile.updated_at = ctx.now
        done = (
            ctx._("Paused: you won't be paired until you type `/skillshare peer resume`.")
            if profile.paused
            else ctx._("Welcome back: you'll be in the next round.")
        )
        return plain(done)
    if word == "leave":
        if profile is None:
            return plain(ctx._("You're not in peer assist, so there was nothing to forget."))
        await ctx.session.delete(profile)
        return plain(ctx._("Done: you've left peer assist and I've forgotten your needs and strengths."))
    return plain(ctx._("I don't know `/skillshare peer {word}`.", word=word) + "\n" + ctx._(USAGE))


# -- the pairing job ---------------------------------------------------------------------------------
async def _history(session: AsyncSession, office_id: str) -> tuple[Counter[tuple[int, int]], Counter[int]]:
    """Past pairings in this office, and how often each person was the odd one out."""
    rows = await session.execute(
        select(PeerPairing.id, PeerPairing.kind, PeerPairMember.person_id)
        .join(PeerRound, PeerRound.id == PeerPairing.round_id)
        .join(PeerPairMember, PeerPairMember.pairing_id == PeerPairing.id)
        .where(PeerRound.office_id == office_id)
    )
    groups: dict[int, list[int]] = {}
    extra: Counter[int] = Counter()
    for pairing_id, kind, person_id in rows:
        groups.setdefault(pairing_id, []).append(person_id)
        if kind in {"sit_out", "trio"}:
            extra[person_id] += 1
    history: Counter[tuple[int, int]] = Counter()
    for members in groups.values():
        for a, b in combinations(sorted(members), 2):
            history[pair_key(a, b)] += 1
    return history, extra


async def run_pairing(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    now = app.clock.now()
    period = str(args.get("period") or period_of(now))
    summaries = [await _pair_office(app, session, office, period, now) for office in app.config.offices]
    return f"peer pairing {period}: " + "; ".join(summaries)


async def _pair_office(
    app: Learnbot, session: AsyncSession, office: Office, period: str, now: datetime
) -> str:
    """Propose one office's round for ``period`` (once: a second run finds the round) and say what
    happened, for the job's summary."""
    existing = await session.scalar(
        select(PeerRound.id).where(PeerRound.office_id == office.id, PeerRound.period == period)
    )
    if existing is not None:
        return f"{office.id}: round {period} already proposed"
    profiles = list(
        await session.scalars(
            select(PeerProfile)
            .where(PeerProfile.office_id == office.id, PeerProfile.paused.is_(False))
            .order_by(PeerProfile.person_id)
        )
    )
    candidates = [Candidate(p.person_id, p.needs, p.strengths) for p in profiles if p.needs or p.strengths]
    if len(candidates) < 2:
        return f"{office.id}: {len(candidates)} taking part, no round"
    history, extra = await _history(session, office.id)
    proposal = propose(
        candidates,
        history=history,
        extra_counts=extra,
        odd=app.config.skillshare.peer_odd_number,
        seed=period,
    )
    try:
        async with session.begin_nested():
            round_ = PeerRound(office_id=office.id, period=period, created_at=now)
            session.add(round_)
            await session.flush()
    except IntegrityError:
        return f"{office.id}: round {period} proposed concurrently elsewhere"
    by_id = {c.person_id: c for c in candidates}
    for group in proposal.groups:
        pairing = await _add_pairing(session, round_.id, "trio" if len(group) == 3 else "pair", group, now)
        for person_id in group:
            partners = [by_id[other] for other in group if other != person_id]
            await _introduce(app, session, pairing, person_id, partners, now)
    if proposal.sit_out is not None:
        pairing = await _add_pairing(session, round_.id, "sit_out", (proposal.sit_out,), now)
        sitting_out = await session.get_one(Person, proposal.sit_out)
        await app.plan(
            session,
            destination=ToPerson(proposal.sit_out),
            message=plain(
                app.translator_for(sitting_out)._(
                    "Peer assist: with an odd number of people this round, you sit this one out. "
                    "You'll be first in line next round."
                )
            ),
            key=f"peer-sitout:{pairing.id}:{proposal.sit_out}",
        )
    trios = sum(1 for g in proposal.groups if len(g) == 3)
    return (
        f"{office.id}: {len(proposal.groups) - trios} pair(s), {trios} trio(s), "
        f"{0 if proposal.sit_out is None else 1} sitting out"
    )


async def _add_pairing(
    session: AsyncSession, round_id: int, kind: str, members: tuple[int, ...], now: datetime
) -> PeerPairing:
    pairing = PeerPairing(round_id=round_id, kind=kind, created_at=now)
    session.add(pairing)
    await session.flush()
    for person_id in members:
        session.add(PeerPairMember(pairing_id=pairing.id, person_id=person_id, met=None, answered_at=None))
    await session.flush()
    return pairing


async def _introduce(
    app: Learnbot,
    session: AsyncSession,
    pairing: PeerPairing,
    person_id: int,
    partners: list[Candidate],
    now: datetime,
) -> None:
    t = app.translator_for(await session.get_one(Person, person_id))
    lines = []
    names = []
    for partner in partners:
        person = await session.get_one(Person, partner.person_id)
        names.append(person.name)
        can = t._("can help with: {what}", what=partner.strengths or "—")
        would = t._("would like help with: {what}", what=partner.needs or "—")
        lines.append(f"{contact(person)}\n  {can}\n  {would}")
    who = t.list(names)
    intro = t.ngettext(
        "Your peer-assist partner this round: {who}.",
        "Your peer-assist partners this round: {who}.",
        len(partners),
        who=who,
    )
    await app.plan(
        session,
        destination=ToPerson(person_id),
        message=Message(
            text=intro,
            blocks=[
                Header(t._("Peer assist")),
                Text(intro),
                Text("\n".join(lines), markdown=False),
                Note(t._("Suggest 30 minutes: ask what they need, share what you know. No slides needed.")),
            ],
        ),
        key=f"peer-pair:{pairing.id}:{person_id}",
    )
    question = t._("Did you meet {who} for peer assist?", who=who)
    await app.plan(
        session,
        destination=ToPerson(person_id),
        message=Message(
            text=question,
            blocks=[
                Text(question),
                Buttons(
                    [
                        Button(t._("Yes, we met"), actions.PEER_MET, f"{pairing.id}:yes", style="primary"),
                        Button(t._("Not yet"), actions.PEER_MET, f"{pairing.id}:no"),
                    ]
                ),
            ],
        ),
        key=f"peer-followup:{pairing.id}:{person_id}",
        not_before=now + timedelta(days=app.config.skillshare.peer_followup_days),
    )


async def met(ctx: Context, value: str) -> Reply:
    pairing_text, _, answer = value.partition(":")
    if not pairing_text.isdigit() or answer not in {"yes", "no"}:
        raise UserError(ctx._("That button is out of date. Type `/skillshare peer` to see your peer assist."))
    member = await ctx.session.scalar(
        select(PeerPairMember).where(
            PeerPairMember.pairing_id == int(pairing_text), PeerPairMember.person_id == ctx.person.id
        )
    )
    if member is None:
        raise UserError(ctx._("That question wasn't for you, so I didn't record anything."))
    member.met = answer == "yes"
    member.answered_at = ctx.now
    if member.met:
        return plain(ctx._("Great, thanks for telling me! I hope it helped."))
    return plain(ctx._("Thanks for telling me. No problem: you'll get a new partner next round."))
