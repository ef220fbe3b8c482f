"""How offers and requests look in a message. User text goes in plain (non-markdown) blocks,
so nothing a person typed can format, link or mention; renderers escape it as well."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import AppConfig
from bot.features.skillshare import actions
from bot.i18n import Translator
from bot.messages import Block, Button, Buttons, Text
from storage.models import Person
from storage.skillshare import SkillOffer, SkillRequest

MAX_SHOWN = 15
"""Offers per message: two blocks each stays well under Slack's 50-block limit."""


def contact(person: Person) -> str:
    return f"{person.name} ({person.email})" if person.email and person.email != person.name else person.name


def offer_text(
    t: Translator, offer: SkillOffer, owner: Person | None, config: AppConfig, *, viewer_office: str | None
) -> str:
    lines = [f"#{offer.id} {offer.skill} — {t._(offer.format)}, {t._(offer.level)}"]
    if offer.description:
        lines.append(offer.description)
    details = []
    if owner is not None:
        details.append(t._("by {name}", name=contact(owner)))
    if offer.office_id != viewer_office:
        details.append(config.office(offer.office_id).name)
    if offer.availability:
        details.append(t._("available: {when}", when=offer.availability))
    if details:
        lines.append(" · ".join(details))
    return "\n".join(lines)


def offer_blocks(
    t: Translator,
    offer: SkillOffer,
    owner: Person | None,
    config: AppConfig,
    *,
    viewer_office: str | None,
    buttons: Sequence[Button] = (),
) -> list[Block]:
    blocks: list[Block] = [
        Text(offer_text(t, offer, owner, config, viewer_office=viewer_office), markdown=False)
    ]
    if buttons:
        blocks.append(Buttons(list(buttons)))
    return blocks


def own_offer_buttons(t: Translator, offer: SkillOffer) -> list[Button]:
    return [
        Button(t._("Edit"), actions.EDIT, str(offer.id)),
        Button(t._("Withdraw"), actions.WITHDRAW, str(offer.id), style="danger"),
    ]


def request_text(request: SkillRequest, requester: Person | None = None) -> str:
    who = f" — {contact(requester)}" if requester is not None else ""
    return f"#{request.id} {request.skill}{who}"
