"""The offer conversation: skill, description, format, level, availability, then a summary
to confirm, edit or cancel. The state lives in ``dialog_states`` (see :mod:`bot.dialogs`), so a
restart or another replica continues it; the core handles "cancel" and idle expiry.

A form (Slack modal, Teams Adaptive Card) is offered as a faster alternative; it fills the same
fields and is validated by the same rules.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import dialogs
from bot.dialogs import Dialog
from bot.errors import UserError
from bot.features.skillshare import actions
from bot.features.skillshare import text as usertext
from bot.features.skillshare.search import offer_search_text, requests_for_offer
from bot.features.skillshare.views import contact
from bot.i18n import N_, Translator
from bot.messages import Button, Buttons, Fields, Form, FormField, Header, Message, Note, Text, plain
from bot.outbox import ToPerson
from bot.router import Context, Reply
from storage.models import DialogState, Person
from storage.skillshare import OfferStatus, SkillMatch, SkillOffer, SkillRequest

logger = logging.getLogger(__name__)

DIALOG = "skillshare.offer"
STEPS = ("skill", "description", "format", "level", "availability")
LABELS = {
    "skill": N_("Skill"),
    "description": N_("Description"),
    "format": N_("Format"),
    "level": N_("Level"),
    "availability": N_("Availability"),
}
ALIASES = {
    "when": "availability", "available": "availability", "what": "skill", "topic": "skill",
    "competence": "skill", "habilidad": "skill", "niveau": "level", "nivel": "level",
    "disponibilite": "availability", "disponibilidad": "availability", "formato": "format",
}  # fmt: skip
CONFIRM_WORDS = {
    "confirm", "yes", "y", "ok", "okay", "save", "looks good",
    "confirmer", "oui", "enregistrer", "confirmar", "si", "sí", "guardar", "vale",
}  # fmt: skip
EDIT_WORDS = {"edit", "change", "no", "modifier", "changer", "non", "editar", "cambiar"}
DRAFT = "form_draft"
"""Key in the dialog data holding a refused form's answers as typed, to pre-fill it again."""


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    example: str = ""


QUESTIONS = {
    "skill": Question(
        N_("What would you like to teach?"), N_("A skill in a few words, e.g. Excel pivot tables.")
    ),
    "description": Question(
        N_("In one line, what will people learn?"), N_("e.g. Build a pivot table and chart in 30 minutes.")
    ),
    "format": Question(N_("Which format suits it?")),
    "level": Question(N_("What level is it for?")),
    "availability": Question(N_("When are you available?"), N_("e.g. Tuesday afternoons from January.")),
}


def _idle(ctx: Context) -> timedelta:
    return timedelta(minutes=ctx.config.dialog_idle_minutes)


def _choices(ctx: Context, step: str) -> list[str]:
    settings = ctx.config.skillshare
    return list(settings.formats if step == "format" else settings.levels)


def _parse_choice(ctx: Context, step: str, answer: str) -> str | None:
    choices = _choices(ctx, step)
    wanted = usertext.normalise(answer)
    if wanted.isdigit() and 1 <= int(wanted) <= len(choices):
        return choices[int(wanted) - 1]
    exact = [c for c in choices if wanted in {usertext.normalise(c), usertext.normalise(ctx._(c))}]
    if exact:
        return exact[0]
    starts = [
        c
        for c in choices
        if wanted
        and (usertext.normalise(c).startswith(wanted) or usertext.normalise(ctx._(c)).startswith(wanted))
    ]
    return starts[0] if len(starts) == 1 else None


def _parse(ctx: Context, step: str, answer: str) -> str:
    """Validate one answer; refuse (keeping the dialog where it is) with a clear message."""
    if step == "skill":
        return usertext.clean(ctx.t, answer, usertext.SKILL)
    if step == "description":
        return usertext.clean(ctx.t, answer, usertext.DESCRIPTION)
    if step == "availability":
        return usertext.clean(ctx.t, answer, usertext.AVAILABILITY)
    choice = _parse_choice(ctx, step, answer)
    if choice is None:
        options = ", ".join(ctx._(c) for c in _choices(ctx, step))
        raise UserError(
            ctx._("Please pick one of: {options} (type it, its number, or use a button).", options=options)
        )
    return choice


def _question(ctx: Context, step: str, data: dict[str, Any], *, intro: str = "") -> Message:
    question = QUESTIONS[step]
    blocks: list[Any] = []
    if intro:
        blocks.append(Text(intro))
    blocks.append(Text(ctx._(question.text)))
    if step in {"format", "level"}:
        choices = _choices(ctx, step)
        blocks.append(Text("\n".join(f"{i}. {ctx._(c)}" for i, c in enumerate(choices, 1)), markdown=False))
        blocks.append(Buttons([Button(ctx._(c), actions.OFFER_ANSWER, f"{step}:{c}") for c in choices]))
    elif question.example:
        blocks.append(Note(ctx._(question.example)))
    if step == "skill" or (step == "description" and not data.get("offer_id")):
        blocks.append(Buttons([Button(ctx._("Use a form instead"), actions.OFFER_FORM)]))
    blocks.append(Note(ctx._("Type cancel at any time to stop; nothing is saved until you confirm.")))
    text = f"{intro} {ctx._(question.text)}".strip()
    return Message(text=text, blocks=blocks, dm=True)


def _shown(t: Translator, data: dict[str, Any], step: str) -> str:
    value = str(data.get(step) or "—")
    return t._(value) if step in {"format", "level"} else value


def summary(t: Translator, data: dict[str, Any]) -> Message:
    heading = t._("Here's your offer")
    fields = [(t._(LABELS[step]), _shown(t, data, step)) for step in STEPS]
    return Message(
        text=t._("{heading}: {skill}. Confirm, edit or cancel?", heading=heading, skill=data.get("skill")),
        blocks=[
            Header(heading),
            Fields(fields),
            Buttons(
                [
                    Button(t._("Confirm"), actions.OFFER_CONFIRM, style="primary"),
                    Button(t._("Edit"), actions.OFFER_EDIT),
                    Button(t._("Cancel"), actions.OFFER_CANCEL, style="danger"),
                ]
            ),
            Note(t._("Or type confirm, edit or cancel.")),
        ],
        dm=True,
    )


def _which_field(t: Translator, data: dict[str, Any]) -> Message:
    return Message(
        text=t._("What would you like to change? skill, description, format, level or availability"),
        blocks=[
            Text(t._("What would you like to change?")),
            Fields([(t._(LABELS[step]), _shown(t, data, step)) for step in STEPS]),
            Buttons([Button(t._(LABELS[step]), actions.OFFER_FIELD, step) for step in STEPS]),
            Buttons([Button(t._("Use a form instead"), actions.OFFER_FORM)]),
            Note(t._("Type the part to change (e.g. level), or cancel.")),
        ],
        dm=True,
    )


async def _advance(ctx: Context, data: dict[str, Any], *, intro: str = "") -> Message:
    """Ask the next unanswered question, or show the summary once everything is answered."""
    if not data.pop("editing", False):
        for step in STEPS:
            if step not in data:
                await dialogs.save(ctx.session, ctx.person.id, DIALOG, step, data, ctx.now, _idle(ctx))
                return _question(ctx, step, data, intro=intro)
    await dialogs.save(ctx.session, ctx.person.id, DIALOG, "confirm", data, ctx.now, _idle(ctx))
    return summary(ctx.t, data)


async def start(ctx: Context, args: str) -> Reply:
    """``/skillshare offer [skill]``: the skill given on the command line skips the first question."""
    data: dict[str, Any] = {}
    if args.strip():
        data["skill"] = usertext.clean(ctx.t, args, usertext.SKILL)
    return await _advance(ctx, data, intro=ctx._("Thanks for sharing what you know!"))


async def start_edit(ctx: Context, offer: SkillOffer) -> Reply:
    data: dict[str, Any] = {step: getattr(offer, step) for step in STEPS}
    data["offer_id"] = offer.id
    await dialogs.save(ctx.session, ctx.person.id, DIALOG, "edit_which", data, ctx.now, _idle(ctx))
    return _which_field(ctx.t, data)


async def on_text(ctx: Context, state: DialogState, answer: str) -> Reply:
    data = dict(state.data)
    data.pop(DRAFT, None)
    step = state.step
    if step in STEPS:
        data[step] = _parse(ctx, step, answer)
        return await _advance(ctx, data)
    if step == "confirm":
        word = answer.strip().lower().strip("!. ")
        if word in CONFIRM_WORDS:
            return await confirm(ctx, data, state)
        if word in EDIT_WORDS:
            await dialogs.save(ctx.session, ctx.person.id, DIALOG, "edit_which", data, ctx.now, _idle(ctx))
            return _which_field(ctx.t, data)
        return plain(ctx._("Please type confirm, edit or cancel (or use the buttons)."), dm=True)
    if step == "edit_which":
        wanted = usertext.normalise(answer)
        field = ALIASES.get(wanted, wanted)
        if field not in STEPS:
            return plain(
                ctx._("Which part? Type skill, description, format, level or availability (or cancel)."),
                dm=True,
            )
        return await ask_field(ctx, state, field)
    logger.warning("skillshare dialog in unknown step %s; starting over", step)
    return await _advance(ctx, {})


async def ask_field(ctx: Context, state: DialogState, field: str) -> Message:
    data = dict(state.data)
    data["editing"] = True
    await dialogs.save(ctx.session, ctx.person.id, DIALOG, field, data, ctx.now, _idle(ctx))
    current = data.get(field)
    shown = _shown(ctx.t, data, field)
    return _question(ctx, field, data, intro=ctx._("Now: {value}.", value=shown) if current else "")


async def answer_button(ctx: Context, state: DialogState, value: str) -> Reply:
    step, _, choice = value.partition(":")
    if state.step != step:
        return [
            plain(ctx._("That question was already answered; here is where we are."), dm=True),
            where_we_are(ctx, state),
        ]
    return await on_text(ctx, state, choice)


async def on_action(ctx: Context, state: DialogState, action_id: str, value: str) -> Reply:
    """A button of the open offer conversation (the core checked it is open and not idle)."""
    if action_id == actions.OFFER_ANSWER:
        return await answer_button(ctx, state, value)
    if action_id == actions.OFFER_CANCEL:
        return await dialogs.cancel(ctx.session, state.person_id, DIALOG_SPEC, dm=True, t=ctx.t)
    if action_id == actions.OFFER_CONFIRM:
        return (
            await confirm(ctx, dict(state.data), state)
            if state.step == "confirm"
            else where_we_are(ctx, state)
        )
    if action_id == actions.OFFER_EDIT:
        return await on_text(ctx, state, "edit") if state.step == "confirm" else where_we_are(ctx, state)
    if action_id == actions.OFFER_FIELD and value in STEPS:
        return await ask_field(ctx, state, value)
    return where_we_are(ctx, state)


def where_we_are(ctx: Context, state: DialogState) -> Message:
    data = dict(state.data)
    if state.step in STEPS:
        return _question(ctx, state.step, data)
    if state.step == "edit_which":
        return _which_field(ctx.t, data)
    return summary(ctx.t, data)


async def confirm(ctx: Context, data: dict[str, Any], state: DialogState | None = None) -> Reply:
    """Save the offer. With the dialog ``state`` it came from, the state is claimed first, so a
    double click on Confirm (or two replicas handling it at once) saves one offer, not two."""
    missing = [step for step in STEPS if not data.get(step) and step in {"skill", "format", "level"}]
    if missing:
        return await _advance(ctx, {k: v for k, v in data.items() if k not in missing})
    if state is not None and not await _claim(ctx, state):
        return plain(ctx._("That offer is already saved. See it with `/skillshare mine`."), dm=True)
    offer, requests = await save_offer(ctx, data)
    await dialogs.finish(ctx.session, ctx.person.id)
    if data.get("offer_id"):
        lines = [
            ctx._("Thank you! Your offer #{number} “{skill}” is updated.", number=offer.id, skill=offer.skill)
        ]
    else:
        lines = [
            ctx._("Thank you! Your offer #{number} “{skill}” is saved.", number=offer.id, skill=offer.skill)
        ]
    lines.append(ctx._("Colleagues can find it with `/skillshare list` and `/skillshare search`."))
    if requests:
        lines.append(
            ctx.ngettext(
                "{n} colleague asked to learn this; I've sent you and them a private note.",
                "{n} colleagues asked to learn this; I've sent you and them a private note.",
                len(requests),
            )
        )
    return Message(
        text=" ".join(lines),
        blocks=[Text("\n".join(lines)), Note(ctx._("See or change your offers with `/skillshare mine`."))],
        dm=True,
    )


async def _claim(ctx: Context, state: DialogState) -> bool:
    """Delete the dialog row only if nobody changed it since it was read (compare-and-delete);
    on PostgreSQL a concurrent claim waits for this one and then finds nothing to delete."""
    result = await ctx.session.execute(
        delete(DialogState)
        .where(DialogState.person_id == state.person_id, DialogState.updated_at == state.updated_at)
        .execution_options(synchronize_session=False)
    )
    ctx.session.expunge(state)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def save_offer(ctx: Context, data: dict[str, Any]) -> tuple[SkillOffer, list[SkillRequest]]:
    """Create or update the offer, then introduce it to open requests it answers."""
    offer: SkillOffer | None = None
    if data.get("offer_id"):
        offer = await owned_offer(ctx, int(data["offer_id"]))
    if offer is None:
        offer = SkillOffer(
            person_id=ctx.person.id,
            office_id=ctx.config.office(ctx.person.office_id).id,
            status=OfferStatus.ACTIVE,
            created_at=ctx.now,
        )
        ctx.session.add(offer)
    offer.skill = str(data["skill"])
    offer.description = str(data.get("description") or "")
    offer.format = str(data["format"])
    offer.level = str(data["level"])
    offer.availability = str(data.get("availability") or "")
    offer.search_text = offer_search_text(offer)
    offer.updated_at = ctx.now
    await ctx.session.flush()
    matched = await introduce_offer(ctx, offer)
    return offer, matched


async def owned_offer(ctx: Context, offer_id: int) -> SkillOffer:
    offer = await ctx.session.get(SkillOffer, offer_id)
    if offer is None or offer.person_id != ctx.person.id or offer.status != OfferStatus.ACTIVE:
        raise UserError(
            ctx._("You have no active offer #{number}. See yours with `/skillshare mine`.", number=offer_id)
        )
    return offer


async def introduce_offer(ctx: Context, offer: SkillOffer) -> list[SkillRequest]:
    """Tell people with open requests about a (new or changed) offer, and its author about them.
    Each request/offer pair is introduced once (``skill_matches``), with idempotent outbox keys."""
    introduced = set(
        await ctx.session.scalars(select(SkillMatch.request_id).where(SkillMatch.offer_id == offer.id))
    )
    fresh = [r for r in await requests_for_offer(ctx.session, offer) if r.id not in introduced]
    for request in fresh:
        requester = await ctx.session.get_one(Person, request.person_id)
        await record_match(ctx, request, offer, requester, ctx.person, tell_requester=True)
    return fresh


async def record_match(
    ctx: Context,
    request: SkillRequest,
    offer: SkillOffer,
    requester: Person,
    offerer: Person,
    *,
    tell_requester: bool,
) -> None:
    ctx.session.add(SkillMatch(request_id=request.id, offer_id=offer.id, created_at=ctx.now))
    await ctx.session.flush()
    t = ctx.app.translator_for(offerer)
    to_offerer = t._(
        "{name} would like to learn “{skill}”, and your offer #{number} “{offer}” looks like a match. "
        "If you can help, drop them a message.",
        name=contact(requester),
        skill=request.skill,
        number=offer.id,
        offer=offer.skill,
    )
    await ctx.send(
        ToPerson(offerer.id),
        Message(
            text=to_offerer,
            blocks=[Header(t._("Someone would like to learn from you")), Text(to_offerer, markdown=False)],
        ),
        key=f"skillshare-match:{request.id}:{offer.id}:offerer",
    )
    if tell_requester:
        rt = ctx.app.translator_for(requester)
        to_requester = rt._(
            "Good news: {name} now offers “{offer}” ({format}, {level}), which matches your request "
            "“{skill}”. "
            "They know you're interested; say hello!",
            name=contact(offerer),
            offer=offer.skill,
            format=rt._(offer.format),
            level=rt._(offer.level),
            skill=request.skill,
        )
        await ctx.send(
            ToPerson(requester.id),
            Message(
                text=to_requester,
                blocks=[Header(rt._("A match for your request")), Text(to_requester, markdown=False)],
            ),
            key=f"skillshare-match:{request.id}:{offer.id}:requester",
        )


# -- the form alternative -------------------------------------------------------------------------
def _known(t: Translator, value: Any, choices: list[str]) -> str:
    """A choice to pre-select, only if it is one of the options (a Slack modal refuses an
    initial option that is not in its list), as shown in the person's language."""
    return t._(str(value)) if value in choices else ""


async def form(ctx: Context, value: str) -> Reply:
    """The offer as one form (Slack modal / Teams card), pre-filled from the conversation so far."""
    state = await dialogs.current(ctx.session, ctx.person.id)
    data = dict(state.data) if state is not None and state.dialog == DIALOG else {}
    data.update({k: v for k, v in dict(data.pop(DRAFT, {})).items() if v})
    settings = ctx.config.skillshare
    fields = [
        FormField(
            "skill",
            ctx._("What would you like to teach?"),
            initial=data.get("skill", ""),
            max_length=usertext.SKILL.max_length,
        ),
        FormField(
            "description",
            ctx._("In one line, what will people learn?"),
            kind="long_text",
            initial=data.get("description", ""),
            max_length=usertext.DESCRIPTION.max_length,
        ),
        FormField(
            "format",
            ctx._("Format"),
            kind="choice",
            options=[ctx._(c) for c in settings.formats],
            initial=_known(ctx.t, data.get("format"), settings.formats),
        ),
        FormField(
            "level",
            ctx._("Level"),
            kind="choice",
            options=[ctx._(c) for c in settings.levels],
            initial=_known(ctx.t, data.get("level"), settings.levels),
        ),
        FormField(
            "availability",
            ctx._("When are you available?"),
            initial=data.get("availability", ""),
            optional=True,
            max_length=usertext.AVAILABILITY.max_length,
        ),
    ]
    title = ctx._("Edit your offer") if data.get("offer_id") else ctx._("Offer a skill")
    return Message(
        text=title,
        blocks=[
            Form(
                title=title,
                submit_action_id=actions.OFFER_FORM_SUBMIT,
                fields=fields,
                submit_label=ctx._("Save offer"),
                step_by_step=ctx._("Reply here step by step."),
                required=ctx._("Please fill in {label}."),
            )
        ],
        dm=True,
    )


async def form_submitted(ctx: Context, value: str) -> Reply:
    try:
        answers = json.loads(value or "{}")
    except json.JSONDecodeError:
        raise UserError(
            ctx._("I couldn't read that form. Please try again with `/skillshare offer`.")
        ) from None
    if not isinstance(answers, dict):
        raise UserError(ctx._("I couldn't read that form. Please try again with `/skillshare offer`."))
    state = await dialogs.current(ctx.session, ctx.person.id)
    data: dict[str, Any] = {}
    if state is not None and state.dialog == DIALOG and state.data.get("offer_id"):
        data["offer_id"] = state.data["offer_id"]
    problems: list[tuple[str, str]] = []
    for step in STEPS:
        raw = str(answers.get(step) or "")
        if step == "availability" and not raw.strip():
            data[step] = ""
        elif not raw.strip():
            problems.append((step, ctx._("Please fill in {field}.", field=ctx._(LABELS[step]).lower())))
        else:
            try:
                data[step] = _parse(ctx, step, raw)
            except UserError as refusal:
                problems.append((step, refusal.message))
    if not problems:
        return await confirm(ctx, data)
    # Keep what was typed: the valid answers continue the conversation at the first problem,
    # and the form opens again pre-filled with everything as it was sent.
    data[DRAFT] = {step: str(answers.get(step) or "")[:2000] for step in STEPS}
    first = problems[0][0]
    await dialogs.save(ctx.session, ctx.person.id, DIALOG, first, data, ctx.now, _idle(ctx))
    lines = [f"{ctx._(LABELS[step])}: {problem}" for step, problem in problems]
    return Message(
        text=ctx._("I couldn't save the form:") + " " + " ".join(lines),
        blocks=[
            Text(ctx._("I couldn't save the form yet; your answers are kept.")),
            Text("\n".join(lines), markdown=False),
            Buttons([Button(ctx._("Open the form again"), actions.OFFER_FORM, style="primary")]),
            Note(ctx._("Or type the {field} here. Type cancel to stop.", field=ctx._(LABELS[first]).lower())),
        ],
        dm=True,
    )


DIALOG_SPEC = Dialog(
    name=DIALOG,
    topic=N_("your skillshare offer"),
    restart_hint=N_("Type `/skillshare offer` to start again."),
    on_text=on_text,
    on_action=on_action,
    actions=frozenset(
        {
            actions.OFFER_ANSWER,
            actions.OFFER_CONFIRM,
            actions.OFFER_EDIT,
            actions.OFFER_FIELD,
            actions.OFFER_CANCEL,
        }
    ),
)


async def already_introduced(session: AsyncSession, request_id: int) -> set[int]:
    """Offers this request was already introduced to."""
    return set(await session.scalars(select(SkillMatch.offer_id).where(SkillMatch.request_id == request_id)))
