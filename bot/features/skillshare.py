"""Skillshare: colleagues offer to teach, browse and search offers, ask to learn, and get
paired for peer assist. The conversation lives in :mod:`bot.skillshare.offers`, search in
:mod:`bot.skillshare.search`, pairing in :mod:`bot.skillshare.peer`; this module wires the
commands, buttons, home section and job to the router.

Inviting an offer onto a learning day's agenda (the ``skillshare.invite`` button shown in
``/skillshare all``) is handled by :mod:`bot.features.agenda_invites`, which joins both features.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.messages import Block, Button, Buttons, Header, Message, Note, Text, plain
from bot.router import Context, Reply, Router
from bot.skillshare import offers, peer
from bot.skillshare import text as usertext
from bot.skillshare.search import offers_for_request, search_offers
from bot.skillshare.views import MAX_SHOWN, offer_blocks, own_offer_buttons, request_text
from storage.models import Person
from storage.skillshare import SkillOffer, SkillRequest

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

INVITE_ACTION = "skillshare.invite"
MAX_REQUEST_BUTTONS = 10
REQUEST_LINES_PER_BLOCK = 12


async def _owners(session: AsyncSession, person_ids: set[int]) -> dict[int, Person]:
    if not person_ids:
        return {}
    people = await session.scalars(select(Person).where(Person.id.in_(person_ids)))
    return {p.id: p for p in people}


async def _offer_list(
    ctx: Context,
    found: list[SkillOffer],
    heading: str,
    *,
    total: int,
    more_hint: str,
    buttons: Callable[[SkillOffer], list[Button]] | None = None,
) -> list[Message]:
    """Offers as messages of at most ``MAX_SHOWN`` each (Slack allows 50 blocks a message)."""
    owners = await _owners(ctx.session, {o.person_id for o in found})
    messages: list[Message] = []
    for start in range(0, len(found), MAX_SHOWN):
        chunk = found[start : start + MAX_SHOWN]
        blocks: list[Block] = [Header(heading)] if start == 0 else []
        for offer in chunk:
            extra = buttons(offer) if buttons else ()
            blocks += offer_blocks(
                offer,
                owners.get(offer.person_id),
                ctx.config,
                viewer_office=ctx.person.office_id,
                buttons=extra,
            )
        messages.append(Message(text=f"{heading} ({len(chunk)})", blocks=blocks))
    if total > len(found) and messages:
        messages[-1].blocks.append(Note(f"{total - len(found)} more. {more_hint}"))
    return messages


def _offer_id(args: str) -> int | None:
    word = args.strip().lstrip("#")
    if not word:
        return None
    if not word.isdigit():
        raise UserError(f"'{args.strip()}' is not an offer number. See yours with `/skillshare mine`.")
    return int(word)


async def _my_offers(ctx: Context) -> list[SkillOffer]:
    return list(
        await ctx.session.scalars(
            select(SkillOffer)
            .where(SkillOffer.person_id == ctx.person.id, SkillOffer.status == "active")
            .order_by(SkillOffer.id)
        )
    )


async def _pick_offer(ctx: Context, args: str, verb: str, action: str) -> SkillOffer | Message:
    """The offer named in ``args``, the only one the person has, or a list to choose from."""
    offer_id = _offer_id(args)
    if offer_id is not None:
        return await offers.owned_offer(ctx, offer_id)
    mine = await _my_offers(ctx)
    if not mine:
        raise UserError("You have no active offers. Make one with `/skillshare offer`.")
    if len(mine) == 1:
        return mine[0]
    blocks: list[Block] = [Text(f"Which offer would you like to {verb}?")]
    for offer in mine:
        blocks += offer_blocks(
            offer,
            None,
            ctx.config,
            viewer_office=offer.office_id,
            buttons=[Button(verb.capitalize(), action, str(offer.id))],
        )
    return Message(text=f"Which offer would you like to {verb}?", blocks=blocks, dm=True)


async def _withdraw(ctx: Context, offer: SkillOffer) -> Message:
    offer.status = "withdrawn"
    offer.withdrawn_at = ctx.now
    offer.updated_at = ctx.now
    return plain(
        f"Withdrawn: your offer #{offer.id} \u201c{offer.skill}\u201d no longer shows in list and search.",
        dm=True,
    )


def register(router: Router) -> None:
    router.describe("skillshare", "offer to teach what you know, find colleagues to learn from, peer assist")
    router.dialog(offers.DIALOG_SPEC)

    @router.command("skillshare", "offer", usage="[skill]", help="offer to teach or coach a skill")
    async def _offer(ctx: Context, args: str) -> Reply:
        return await offers.start(ctx, args)

    @router.command("skillshare", "list", help="browse what colleagues offer to teach")
    async def _list(ctx: Context, args: str) -> Reply:
        active = SkillOffer.status == "active"
        total = await ctx.session.scalar(select(func.count()).select_from(SkillOffer).where(active)) or 0
        if not total:
            return plain("No offers yet. Be the first: `/skillshare offer`.")
        newest = list(
            await ctx.session.scalars(
                select(SkillOffer)
                .where(active)
                .order_by(SkillOffer.updated_at.desc(), SkillOffer.id.desc())
                .limit(MAX_SHOWN)
            )
        )
        return await _offer_list(
            ctx,
            newest,
            "Skillshare offers",
            total=total,
            more_hint="Narrow it with `/skillshare search <words>`.",
        )

    @router.command("skillshare", "search", usage="<words>", help="find offers (best matches first)")
    async def _search(ctx: Context, args: str) -> Reply:
        query = usertext.clean(args, usertext.REQUEST, required=False)
        if not usertext.terms(query):
            return plain("What are you looking for? e.g. `/skillshare search excel`.")
        found = await search_offers(ctx.session, query, limit=MAX_SHOWN)
        if not found:
            return plain(
                f"No offers match \u201c{query}\u201d yet. Ask for it with `/skillshare request {query}` "
                "and I'll tell you when someone offers it."
            )
        return await _offer_list(
            ctx,
            [r.offer for r in found],
            f"Offers matching \u201c{query}\u201d",
            total=len(found),
            more_hint="",
        )

    @router.command("skillshare", "mine", help="your offers, requests and peer assist")
    async def _mine(ctx: Context, args: str) -> Reply:
        mine = await _my_offers(ctx)
        requests = list(
            await ctx.session.scalars(
                select(SkillRequest)
                .where(SkillRequest.person_id == ctx.person.id, SkillRequest.status == "open")
                .order_by(SkillRequest.id)
            )
        )
        blocks: list[Block] = [Header("Your skillshare")]
        if not mine:
            blocks.append(Text("You have no active offers. Share what you know: `/skillshare offer`."))
        for offer in mine[:MAX_SHOWN]:
            blocks += offer_blocks(
                offer, None, ctx.config, viewer_office=offer.office_id, buttons=own_offer_buttons(offer)
            )
        if requests:
            shown = requests[:MAX_REQUEST_BUTTONS]
            blocks.append(Text("Your open requests:"))
            blocks.append(Text("\n".join(request_text(r) for r in shown), markdown=False))
            blocks.append(
                Buttons(
                    [Button(f"Close request #{r.id}", "skillshare.request_close", str(r.id)) for r in shown]
                )
            )
        profile = await peer.profile_of(ctx)
        if profile is not None:
            blocks.append(
                Note(f"Peer assist: {'paused' if profile.paused else 'active'} (`/skillshare peer`).")
            )
        return Message(
            text=f"Your skillshare: {len(mine)} offer(s), {len(requests)} request(s)", blocks=blocks, dm=True
        )

    @router.command("skillshare", "withdraw", usage="[offer number]", help="withdraw one of your offers")
    async def _withdraw_cmd(ctx: Context, args: str) -> Reply:
        picked = await _pick_offer(ctx, args, "withdraw", "skillshare.withdraw")
        return picked if isinstance(picked, Message) else await _withdraw(ctx, picked)

    @router.command("skillshare", "edit", usage="[offer number]", help="change one of your offers")
    async def _edit_cmd(ctx: Context, args: str) -> Reply:
        picked = await _pick_offer(ctx, args, "edit", "skillshare.edit")
        return picked if isinstance(picked, Message) else await offers.start_edit(ctx, picked)

    @router.command(
        "skillshare", "request", usage="<skill>", help="ask to learn a skill; I'll find who offers it"
    )
    async def _request(ctx: Context, args: str) -> Reply:
        if not args.strip():
            return plain("What would you like to learn? e.g. `/skillshare request Excel pivot tables`.")
        skill = usertext.clean(args, usertext.REQUEST)
        if not usertext.terms(skill):
            raise UserError(
                "Please name the skill in a few words, e.g. `/skillshare request public speaking`."
            )
        search_text = usertext.normalise(skill)
        request = await ctx.session.scalar(
            select(SkillRequest).where(
                SkillRequest.person_id == ctx.person.id,
                SkillRequest.status == "open",
                SkillRequest.search_text == search_text,
            )
        )
        repeated = request is not None
        if request is None:
            request = SkillRequest(
                person_id=ctx.person.id,
                office_id=ctx.config.office(ctx.person.office_id).id,
                skill=skill,
                search_text=search_text,
                status="open",
                created_at=ctx.now,
            )
            ctx.session.add(request)
            await ctx.session.flush()
        matches = await offers_for_request(ctx.session, request)
        owners = await _owners(ctx.session, {r.offer.person_id for r in matches})
        introduced = await offers.already_introduced(ctx.session, request.id)
        for ranked in matches:
            if ranked.offer.id not in introduced:
                await offers.record_match(
                    ctx,
                    request,
                    ranked.offer,
                    ctx.person,
                    owners[ranked.offer.person_id],
                    tell_requester=False,
                )
        intro = (
            "You already asked for this; it's still open."
            if repeated
            else f"Noted: you'd like to learn \u201c{skill}\u201d."
        )
        if not matches:
            text = f"{intro} Nobody offers it yet; I'll tell you privately as soon as someone does."
            return plain(text, dm=True)
        blocks: list[Block] = [
            Text(intro),
            Text("These colleagues offer something close (I've let them know you're interested):"),
        ]
        for ranked in matches[:MAX_SHOWN]:
            blocks += offer_blocks(
                ranked.offer, owners[ranked.offer.person_id], ctx.config, viewer_office=ctx.person.office_id
            )
        blocks.append(Note("Close the request when you're sorted: `/skillshare mine`."))
        return Message(text=f"{intro} {len(matches)} matching offer(s).", blocks=blocks, dm=True)

    @router.command(
        "skillshare", "peer", usage="[needs|strengths|pause|resume|leave] ...", help="peer-assist pairs"
    )
    async def _peer(ctx: Context, args: str) -> Reply:
        return await peer.command(ctx, args)

    @router.command(
        "skillshare", "all", help="every offer and open request, to plan learning days", managers_only=True
    )
    async def _all(ctx: Context, args: str) -> Reply:
        active = list(
            await ctx.session.scalars(
                select(SkillOffer)
                .where(SkillOffer.status == "active")
                .order_by(SkillOffer.office_id, SkillOffer.id)
            )
        )
        messages: list[Message] = []
        if active:
            messages += await _offer_list(
                ctx,
                active,
                f"All skillshare offers ({len(active)})",
                total=len(active),
                more_hint="",
                buttons=lambda offer: [Button("Invite to a learning day", INVITE_ACTION, str(offer.id))],
            )
        else:
            messages.append(plain("No active offers yet."))
        requests = list(
            await ctx.session.scalars(
                select(SkillRequest).where(SkillRequest.status == "open").order_by(SkillRequest.id)
            )
        )
        if requests:
            people = await _owners(ctx.session, {r.person_id for r in requests})
            lines = [request_text(r, people.get(r.person_id)) for r in requests]
            request_blocks: list[Block] = [Header(f"Open requests ({len(requests)})")]
            # Slack caps a text block at 3000 characters: a request line is at most ~200.
            for start in range(0, len(lines), REQUEST_LINES_PER_BLOCK):
                chunk = lines[start : start + REQUEST_LINES_PER_BLOCK]
                request_blocks.append(Text("\n".join(chunk), markdown=False))
            for start in range(0, len(request_blocks), 45):
                messages.append(
                    Message(
                        text=f"Open requests ({len(requests)})", blocks=request_blocks[start : start + 45]
                    )
                )
        for message in messages:
            message.dm = True
        return messages

    # -- buttons -----------------------------------------------------------------------------------
    router.action(offers.FORM)(offers.form)
    router.action(offers.FORM_SUBMIT)(offers.form_submitted)
    router.action("skillshare.peer_met")(peer.met)

    @router.action("skillshare.edit")
    async def _edit_offer(ctx: Context, value: str) -> Reply:
        return await offers.start_edit(ctx, await offers.owned_offer(ctx, _offer_id(value) or 0))

    @router.action("skillshare.withdraw")
    async def _withdraw_button(ctx: Context, value: str) -> Reply:
        return await _withdraw(ctx, await offers.owned_offer(ctx, _offer_id(value) or 0))

    @router.action("skillshare.request_close")
    async def _close_request(ctx: Context, value: str) -> Reply:
        request = await ctx.session.get(SkillRequest, _offer_id(value) or 0)
        if request is None or request.person_id != ctx.person.id or request.status != "open":
            raise UserError("That request is already closed. See yours with `/skillshare mine`.")
        request.status = "closed"
        request.closed_at = ctx.now
        return plain(
            f"Closed your request \u201c{request.skill}\u201d. Glad you found what you needed!", dm=True
        )

    @router.home_section(30)
    async def _home(ctx: Context) -> list[Message]:
        mine = await _my_offers(ctx)
        blocks: list[Block] = [Header("Your skillshare offers")]
        if not mine:
            blocks.append(Text("Share what you know with colleagues: `/skillshare offer`."))
        for offer in mine[:MAX_SHOWN]:
            blocks += offer_blocks(
                offer, None, ctx.config, viewer_office=offer.office_id, buttons=own_offer_buttons(offer)
            )
        return [Message(text=f"Your skillshare offers ({len(mine)})", blocks=blocks)]

    @router.job("peer_pairing")
    async def _pairing(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
        return await peer.run_pairing(app, session, args)


__all__ = ["INVITE_ACTION", "register"]
