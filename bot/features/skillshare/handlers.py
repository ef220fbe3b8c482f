"""Skillshare's chat handlers: colleagues offer to teach, browse and search offers, ask to
learn, and get paired for peer assist. The conversation lives in :mod:`.offers`, search in
:mod:`.search`, pairing in :mod:`.peer`, queries in :mod:`.store`; the registration table is at
the bottom.

Inviting an offer onto a learning day's agenda (the ``actions.INVITE`` button shown in
``/skillshare all``) is handled by :mod:`bot.features.agenda_invites`, which joins both features.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.features.skillshare import actions, offers, peer, store
from bot.features.skillshare import text as usertext
from bot.features.skillshare.search import Ranked, offers_for_request, search_offers
from bot.features.skillshare.views import MAX_SHOWN, offer_blocks, own_offer_buttons, request_text
from bot.i18n import N_, Translator
from bot.messages import Block, Button, Buttons, Header, Message, Note, Text, plain
from bot.router import Context, Reply, Router
from storage.models import Person
from storage.skillshare import OfferStatus, RequestStatus, SkillOffer, SkillRequest

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

MAX_REQUEST_BUTTONS = 10
REQUEST_LINES_PER_BLOCK = 12


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
    owners = await store.people(ctx.session, {o.person_id for o in found})
    messages: list[Message] = []
    for start in range(0, len(found), MAX_SHOWN):
        chunk = found[start : start + MAX_SHOWN]
        blocks: list[Block] = [Header(heading)] if start == 0 else []
        for offer in chunk:
            extra = buttons(offer) if buttons else ()
            blocks += offer_blocks(
                ctx.t,
                offer,
                owners.get(offer.person_id),
                ctx.config,
                viewer_office=ctx.person.office_id,
                buttons=extra,
            )
        messages.append(Message(text=f"{heading} ({len(chunk)})", blocks=blocks))
    if total > len(found) and messages:
        more = ctx._("{n} more.", n=total - len(found))
        messages[-1].blocks.append(Note(f"{more} {more_hint}".strip()))
    return messages


def _offer_id(ctx: Context, args: str) -> int | None:
    word = args.strip().lstrip("#")
    if not word:
        return None
    if not word.isdigit():
        raise UserError(
            ctx._("'{text}' is not an offer number. See yours with `/skillshare mine`.", text=args.strip())
        )
    return int(word)


def _withdraw_button(t: Translator, offer: SkillOffer) -> Button:
    return Button(t._("Withdraw"), actions.WITHDRAW, str(offer.id))


def _edit_button(t: Translator, offer: SkillOffer) -> Button:
    return Button(t._("Edit"), actions.EDIT, str(offer.id))


async def _pick_offer(
    ctx: Context, args: str, question: str, button: Callable[[Translator, SkillOffer], Button]
) -> SkillOffer | Message:
    """The offer named in ``args``, the only one the person has, or a list to choose from."""
    offer_id = _offer_id(ctx, args)
    if offer_id is not None:
        return await offers.owned_offer(ctx, offer_id)
    mine = await store.active_offers_of(ctx.session, ctx.person.id)
    if not mine:
        raise UserError(ctx._("You have no active offers. Make one with `/skillshare offer`."))
    if len(mine) == 1:
        return mine[0]
    blocks: list[Block] = [Text(question)]
    for offer in mine:
        blocks += offer_blocks(
            ctx.t,
            offer,
            None,
            ctx.config,
            viewer_office=offer.office_id,
            buttons=[button(ctx.t, offer)],
        )
    return Message(text=question, blocks=blocks, dm=True)


async def _withdraw(ctx: Context, offer: SkillOffer) -> Message:
    offer.status = OfferStatus.WITHDRAWN
    offer.withdrawn_at = ctx.now
    offer.updated_at = ctx.now
    return plain(
        ctx._(
            "Withdrawn: your offer #{number} “{skill}” no longer shows in list and search.",
            number=offer.id,
            skill=offer.skill,
        ),
        dm=True,
    )


# -- commands ------------------------------------------------------------------------------------
async def offer(ctx: Context, args: str) -> Reply:
    return await offers.start(ctx, args)


async def list_offers(ctx: Context, args: str) -> Reply:
    total = await store.count_active_offers(ctx.session)
    if not total:
        return plain(ctx._("No offers yet. Be the first: `/skillshare offer`."))
    newest = await store.newest_active_offers(ctx.session, MAX_SHOWN)
    return await _offer_list(
        ctx,
        newest,
        ctx._("Skillshare offers"),
        total=total,
        more_hint=ctx._("Narrow it with `/skillshare search <words>`."),
    )


async def search(ctx: Context, args: str) -> Reply:
    query = usertext.clean(ctx.t, args, usertext.REQUEST, required=False)
    if not usertext.terms(query):
        return plain(ctx._("What are you looking for? e.g. `/skillshare search excel`."))
    found = await search_offers(ctx.session, query, limit=MAX_SHOWN)
    if not found:
        return plain(
            ctx._(
                "No offers match “{query}” yet. Ask for it with `/skillshare request {query}` "
                "and I'll tell you when someone offers it.",
                query=query,
            )
        )
    return await _offer_list(
        ctx,
        [r.offer for r in found],
        ctx._("Offers matching “{query}”", query=query),
        total=len(found),
        more_hint="",
    )


def _own_offers(ctx: Context, offered: list[SkillOffer]) -> list[Block]:
    """The person's own offers, each with its Edit and Withdraw buttons."""
    blocks: list[Block] = []
    for each in offered[:MAX_SHOWN]:
        blocks += offer_blocks(
            ctx.t,
            each,
            None,
            ctx.config,
            viewer_office=each.office_id,
            buttons=own_offer_buttons(ctx.t, each),
        )
    return blocks


async def mine(ctx: Context, args: str) -> Reply:
    offered = await store.active_offers_of(ctx.session, ctx.person.id)
    requests = await store.open_requests_of(ctx.session, ctx.person.id)
    blocks: list[Block] = [Header(ctx._("Your skillshare"))]
    if not offered:
        blocks.append(Text(ctx._("You have no active offers. Share what you know: `/skillshare offer`.")))
    blocks += _own_offers(ctx, offered)
    if requests:
        shown = requests[:MAX_REQUEST_BUTTONS]
        blocks.append(Text(ctx._("Your open requests:")))
        blocks.append(Text("\n".join(request_text(r) for r in shown), markdown=False))
        blocks.append(
            Buttons(
                [
                    Button(ctx._("Close request #{number}", number=r.id), actions.REQUEST_CLOSE, str(r.id))
                    for r in shown
                ]
            )
        )
    profile = await peer.profile_of(ctx)
    if profile is not None:
        state = ctx._("paused") if profile.paused else ctx._("active")
        blocks.append(Note(ctx._("Peer assist: {state} (`/skillshare peer`).", state=state)))
    offers_count = ctx.ngettext("{n} offer", "{n} offers", len(offered))
    requests_count = ctx.ngettext("{n} request", "{n} requests", len(requests))
    return Message(
        text=ctx._("Your skillshare: {offers}, {requests}", offers=offers_count, requests=requests_count),
        blocks=blocks,
        dm=True,
    )


async def withdraw(ctx: Context, args: str) -> Reply:
    picked = await _pick_offer(ctx, args, ctx._("Which offer would you like to withdraw?"), _withdraw_button)
    return picked if isinstance(picked, Message) else await _withdraw(ctx, picked)


async def edit(ctx: Context, args: str) -> Reply:
    picked = await _pick_offer(ctx, args, ctx._("Which offer would you like to edit?"), _edit_button)
    return picked if isinstance(picked, Message) else await offers.start_edit(ctx, picked)


async def _open_request(ctx: Context, skill: str) -> tuple[SkillRequest, bool]:
    """The person's open request for ``skill``, made now unless they already asked; and whether
    it was already there."""
    search_text = usertext.normalise(skill)
    request = await store.open_request_like(ctx.session, ctx.person.id, search_text)
    if request is not None:
        return request, True
    request = SkillRequest(
        person_id=ctx.person.id,
        office_id=ctx.config.office(ctx.person.office_id).id,
        skill=skill,
        search_text=search_text,
        status=RequestStatus.OPEN,
        created_at=ctx.now,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    return request, False


async def _introduce(ctx: Context, request: SkillRequest, matches: list[Ranked]) -> dict[int, Person]:
    """Tell the owners of matching offers (once per pair) that someone would like to learn."""
    owners = await store.people(ctx.session, {r.offer.person_id for r in matches})
    introduced = await offers.already_introduced(ctx.session, request.id)
    for ranked in matches:
        if ranked.offer.id not in introduced:
            await offers.record_match(
                ctx, request, ranked.offer, ctx.person, owners[ranked.offer.person_id], tell_requester=False
            )
    return owners


async def request(ctx: Context, args: str) -> Reply:
    if not args.strip():
        return plain(ctx._("What would you like to learn? e.g. `/skillshare request Excel pivot tables`."))
    skill = usertext.clean(ctx.t, args, usertext.REQUEST)
    if not usertext.terms(skill):
        raise UserError(
            ctx._("Please name the skill in a few words, e.g. `/skillshare request public speaking`.")
        )
    asked, repeated = await _open_request(ctx, skill)
    matches = await offers_for_request(ctx.session, asked)
    owners = await _introduce(ctx, asked, matches)
    intro = (
        ctx._("You already asked for this; it's still open.")
        if repeated
        else ctx._("Noted: you'd like to learn “{skill}”.", skill=skill)
    )
    if not matches:
        text = intro + " " + ctx._("Nobody offers it yet; I'll tell you privately as soon as someone does.")
        return plain(text, dm=True)
    blocks: list[Block] = [
        Text(intro),
        Text(ctx._("These colleagues offer something close (I've let them know you're interested):")),
    ]
    for ranked in matches[:MAX_SHOWN]:
        blocks += offer_blocks(
            ctx.t,
            ranked.offer,
            owners[ranked.offer.person_id],
            ctx.config,
            viewer_office=ctx.person.office_id,
        )
    blocks.append(Note(ctx._("Close the request when you're sorted: `/skillshare mine`.")))
    count = ctx.ngettext("{n} matching offer.", "{n} matching offers.", len(matches))
    return Message(text=f"{intro} {count}", blocks=blocks, dm=True)


async def peer_assist(ctx: Context, args: str) -> Reply:
    return await peer.command(ctx, args)


async def _open_requests_messages(ctx: Context) -> list[Message]:
    requests = [r for r in await store.all_open_requests(ctx.session) if ctx.manages(r.office_id)]
    if not requests:
        return []
    people = await store.people(ctx.session, {r.person_id for r in requests})
    lines = [request_text(r, people.get(r.person_id)) for r in requests]
    heading = ctx._("Open requests ({n})", n=len(requests))
    request_blocks: list[Block] = [Header(heading)]
    # Slack caps a text block at 3000 characters: a request line is at most ~200.
    for start in range(0, len(lines), REQUEST_LINES_PER_BLOCK):
        chunk = lines[start : start + REQUEST_LINES_PER_BLOCK]
        request_blocks.append(Text("\n".join(chunk), markdown=False))
    return [
        Message(text=heading, blocks=request_blocks[start : start + 45])
        for start in range(0, len(request_blocks), 45)
    ]


def _invite_button(t: Translator) -> Callable[[SkillOffer], list[Button]]:
    def buttons(offer: SkillOffer) -> list[Button]:
        return [Button(t._("Invite to a learning day"), actions.INVITE, str(offer.id))]

    return buttons


async def all_offers(ctx: Context, args: str) -> Reply:
    """Every offer and open request in the manager's offices, for planning learning days."""
    active = [o for o in await store.all_active_offers(ctx.session) if ctx.manages(o.office_id)]
    messages: list[Message] = []
    if active:
        messages += await _offer_list(
            ctx,
            active,
            ctx._("All skillshare offers ({n})", n=len(active)),
            total=len(active),
            more_hint="",
            buttons=_invite_button(ctx.t),
        )
    else:
        messages.append(plain(ctx._("No active offers yet.")))
    messages += await _open_requests_messages(ctx)
    for message in messages:
        message.dm = True
    return messages


# -- buttons -------------------------------------------------------------------------------------
async def edit_pressed(ctx: Context, value: str) -> Reply:
    return await offers.start_edit(ctx, await offers.owned_offer(ctx, _offer_id(ctx, value) or 0))


async def withdraw_pressed(ctx: Context, value: str) -> Reply:
    return await _withdraw(ctx, await offers.owned_offer(ctx, _offer_id(ctx, value) or 0))


async def close_request(ctx: Context, value: str) -> Reply:
    asked = await ctx.session.get(SkillRequest, _offer_id(ctx, value) or 0)
    if asked is None or asked.person_id != ctx.person.id or asked.status != RequestStatus.OPEN:
        raise UserError(ctx._("That request is already closed. See yours with `/skillshare mine`."))
    asked.status = RequestStatus.CLOSED
    asked.closed_at = ctx.now
    return plain(
        ctx._("Closed your request “{skill}”. Glad you found what you needed!", skill=asked.skill), dm=True
    )


async def home(ctx: Context) -> list[Message]:
    offered = await store.active_offers_of(ctx.session, ctx.person.id)
    blocks: list[Block] = [Header(ctx._("Your skillshare offers"))]
    if not offered:
        blocks.append(Text(ctx._("Share what you know with colleagues: `/skillshare offer`.")))
    blocks += _own_offers(ctx, offered)
    return [Message(text=ctx._("Your skillshare offers ({n})", n=len(offered)), blocks=blocks)]


async def pairing(app: Learnbot, session: AsyncSession, args: dict[str, Any]) -> str:
    return await peer.run_pairing(app, session, args)


# -- registration --------------------------------------------------------------------------------
def register(router: Router) -> None:
    router.describe(
        "skillshare", N_("offer to teach what you know, find colleagues to learn from, peer assist")
    )
    router.dialog(offers.DIALOG_SPEC)
    command = router.command
    command("skillshare", "offer", usage="[skill]", help=N_("offer to teach or coach a skill"))(offer)
    command("skillshare", "list", help=N_("browse what colleagues offer to teach"))(list_offers)
    command("skillshare", "search", usage="<words>", help=N_("find offers (best matches first)"))(search)
    command("skillshare", "mine", help=N_("your offers, requests and peer assist"), private=True)(mine)
    command(
        "skillshare", "withdraw", usage="[offer number]", help=N_("withdraw one of your offers"), private=True
    )(withdraw)
    command("skillshare", "edit", usage="[offer number]", help=N_("change one of your offers"), private=True)(
        edit
    )
    command(
        "skillshare",
        "request",
        usage="<skill>",
        help=N_("ask to learn a skill; I'll find who offers it"),
        private=True,
    )(request)
    command(
        "skillshare",
        "peer",
        usage="[needs|strengths|pause|resume|leave] ...",
        help=N_("peer-assist pairs"),
        private=True,
    )(peer_assist)
    command(
        "skillshare",
        "all",
        help=N_("every offer and open request in your office(s), to plan learning days"),
        managers_only=True,
        private=True,
    )(all_offers)
    router.action(actions.OFFER_FORM, private=True)(offers.form)
    router.action(actions.OFFER_FORM_SUBMIT, private=True)(offers.form_submitted)
    router.action(actions.PEER_MET, private=True)(peer.met)
    router.action(actions.EDIT, private=True)(edit_pressed)
    router.action(actions.WITHDRAW, private=True)(withdraw_pressed)
    router.action(actions.REQUEST_CLOSE, private=True)(close_request)
    router.home_section(30)(home)
    router.job("peer_pairing")(pairing)
