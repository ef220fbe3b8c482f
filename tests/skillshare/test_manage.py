"""Managing offers: mine, edit, withdraw, the learning manager's view, the home section, the
form alternative, and what user text may contain."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.core import Learnbot
from bot.errors import UserError
from bot.events import Actor, ButtonPressed, CommandInvoked, Conversation, HomeOpened
from bot.features.skillshare import text as usertext
from bot.i18n import ENGLISH
from bot.messages import Buttons, Form, Message, Text
from storage.skillshare import SkillOffer
from tests.skillshare.helpers import make_offer
from tests.support.conversation import ChatDriver, ChatWorld, converse


def _ana(action_id: str, value: str = "") -> ButtonPressed:
    return ButtonPressed(
        actor=Actor(
            platform="console", user_id="ana@example.org", email="ana@example.org", display_name="Ana"
        ),
        conversation=Conversation(id="dm:ana"),
        action_id=action_id,
        value=value,
    )


async def test_mine_edit_and_withdraw(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await ana.send("/skillshare withdraw")
    await ana.expect_reply("no active offers", "/skillshare offer")
    await make_offer(ana, "Excel")
    await make_offer(ana, "Negotiation")
    await ana.send("/skillshare mine")
    await ana.expect_reply("Your skillshare", "#1 Excel", "#2 Negotiation")
    await ana.send("/skillshare edit 2")
    await ana.expect_reply("What would you like to change?", "Negotiation")
    await converse(
        ana, [("skill", "What would you like to teach?"), ("Negotiation basics", "Here's your offer")]
    )
    await ana.send("confirm")
    await ana.expect_reply("#2", "Negotiation basics", "updated")
    await ana.send("/skillshare withdraw")
    await ana.expect_reply("Which offer would you like to withdraw?")
    await ana.press("Withdraw")
    await ana.expect_reply("Withdrawn", "Negotiation basics")
    await ana.send("/skillshare withdraw 2")
    await ana.expect_reply("no active offer #2")
    await ana.send("/skillshare edit abc")
    await ana.expect_reply("not an offer number")
    bob = world.person("bob@example.org")
    await bob.send("/skillshare withdraw 1")
    await bob.expect_reply("no active offer #1")
    await bob.send("/skillshare list")
    await bob.expect_reply("Skillshare offers", "Excel")


async def test_list_when_empty_and_unknown_subcommand(world: ChatWorld) -> None:
    bob = world.person("bob@example.org")
    await bob.send("/skillshare list")
    await bob.expect_reply("No offers yet")
    await bob.send("/skillshare teach")
    await bob.expect_reply("don't know", "/skillshare offer")
    await bob.send("/skillshare")
    help_text = await bob.expect_reply("/skillshare offer", "/skillshare search", "/skillshare peer")
    assert "/skillshare all" not in help_text  # managers only


async def test_learning_manager_sees_all_offers_with_an_invite_button(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await make_offer(ana, "Excel")
    bob = world.person("bob@example.org")
    await bob.send("/skillshare request negotiation")
    await bob.expect_reply("Nobody offers it yet")
    await ana.send("/skillshare all")
    await ana.expect_reply("only a learning manager")
    manager = world.person("manager@example.org")
    await manager.send("/skillshare all")
    await manager.expect_reply("All skillshare offers", "Excel", "Invite to a learning day")
    await manager.expect_reply("Open requests", "negotiation", "bob@example.org")


def _within_slack_limits(replies: list[Message]) -> None:
    for reply in replies:
        assert len(reply.blocks) <= 50
        assert all(len(b.text) <= 3000 for b in reply.blocks if isinstance(b, Text))


async def test_long_lists_stay_within_message_limits(app: Learnbot) -> None:
    for index in range(40):
        offer = {"skill": f"Skill {index}", "description": "d" * 280, "format": "talk", "level": "beginner"}
        await app.handle(_ana("skillshare.offer_form_submit", json.dumps(offer)))
    ana, conversation = _ana("x").actor, Conversation(id="dm:ana")
    for index in range(40):
        wish = f"request {'something quite specific to learn ' * 3} number {index}"
        await app.handle(CommandInvoked(actor=ana, conversation=conversation, name="skillshare", text=wish))
    manager = Actor(platform="console", user_id="manager@example.org", email="manager@example.org")
    replies = await app.handle(
        CommandInvoked(actor=manager, conversation=conversation, name="skillshare", text="all")
    )
    _within_slack_limits(replies)
    invites = [
        button.value
        for reply in replies
        for block in reply.blocks
        if isinstance(block, Buttons)
        for button in block.buttons
        if button.action_id == "skillshare.invite"
    ]
    assert len(invites) == 40
    assert "number 39" in str(replies[-1].blocks)
    mine = await app.handle(
        CommandInvoked(actor=ana, conversation=conversation, name="skillshare", text="mine")
    )
    _within_slack_limits(mine)


async def test_home_section_lists_my_offers(app: Learnbot, chat: ChatDriver) -> None:
    home = HomeOpened(actor=_ana("x").actor, conversation=Conversation(id="dm:ana"))
    replies = await app.handle(home)
    assert any("Share what you know" in str(reply.blocks) for reply in replies)
    await make_offer(chat, "Excel")
    replies = await app.handle(home)
    section = next(reply for reply in replies if "Your skillshare offers" in reply.text)
    assert "Excel" in str(section.blocks)
    assert any(isinstance(b, Buttons) and b.buttons[0].label == "Edit" for b in section.blocks)


async def test_form_is_offered_and_its_submission_saves_the_offer(app: Learnbot, chat: ChatDriver) -> None:
    await chat.send("/skillshare offer Excel")
    await chat.expect_reply("In one line")
    [reply] = await app.handle(_ana("skillshare.offer_form"))
    [form] = [b for b in reply.blocks if isinstance(b, Form)]
    assert reply.dm and form.submit_action_id == "skillshare.offer_form_submit"
    assert form.fields[0].initial == "Excel"
    assert form.fields[2].options == ["talk", "workshop", "one-to-one coaching", "mentoring"]
    # Bad input is refused with a clear message; what was typed is kept for the next try.
    too_long = {"skill": "Excel", "description": "d" * 281, "format": "talk", "level": "guru"}
    [refused] = await app.handle(_ana(form.submit_action_id, json.dumps(too_long)))
    assert "281 characters" in refused.text and "Please pick one of" in refused.text
    [again] = await app.handle(_ana("skillshare.offer_form"))
    [form] = [b for b in again.blocks if isinstance(b, Form)]
    assert [f.initial for f in form.fields[:4]] == ["Excel", "d" * 281, "talk", ""]
    [refused] = await app.handle(_ana(form.submit_action_id, "not json"))
    assert "couldn't read that form" in refused.text
    submission = {
        "skill": "Excel",
        "description": "Pivot tables",
        "format": "workshop",
        "level": "advanced",
        "availability": "",
    }
    [done] = await app.handle(_ana(form.submit_action_id, json.dumps(submission)))
    assert "saved" in done.text
    async with app.sessions() as session:
        offer = await session.scalar(select(SkillOffer))
    assert offer is not None and (offer.skill, offer.level, offer.availability) == ("Excel", "advanced", "")
    # The conversation the form replaced is over.
    await chat.send("workshop")
    await chat.expect_reply("didn't understand")


async def test_a_refused_form_can_be_finished_in_the_conversation(app: Learnbot, chat: ChatDriver) -> None:
    submission = {"skill": "Excel", "description": "", "format": "talk", "level": "beginner"}
    [refused] = await app.handle(_ana("skillshare.offer_form_submit", json.dumps(submission)))
    assert "Please fill in description" in refused.text
    await chat.send("Pivot tables in 30 minutes")
    await chat.expect_reply("Here's your offer", "Excel", "Pivot tables in 30 minutes", "talk", "beginner")
    await chat.send("confirm")
    await chat.expect_reply("saved")


async def test_form_edits_the_offer_being_edited(app: Learnbot, chat: ChatDriver) -> None:
    await make_offer(chat, "Excel")
    await chat.send("/skillshare edit")
    await chat.expect_reply("What would you like to change?", "Excel")
    [reply] = await app.handle(_ana("skillshare.offer_form"))
    assert isinstance(reply, Message) and "Edit your offer" in reply.text
    submission = {"skill": "Excel charts", "description": "x", "format": "talk", "level": "beginner"}
    [done] = await app.handle(_ana("skillshare.offer_form_submit", json.dumps(submission)))
    assert "updated" in done.text
    async with app.sessions() as session:
        assert list(await session.scalars(select(SkillOffer.skill))) == ["Excel charts"]


@pytest.mark.parametrize(
    "text",
    [
        "Hello <!channel>",
        "hi <!here|here>",
        "@everyone come",
        "ping @Here now",
        "<!subteam^S123|team>",
        "<at>All</at>",
    ],
)
def test_broadcast_mentions_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="must not ping a whole channel"):
        usertext.clean(ENGLISH, text, usertext.DESCRIPTION)


def test_slack_markup_becomes_plain_words_and_emails_are_fine() -> None:
    cleaned = usertext.clean(
        ENGLISH,
        "Ask <@U123|ana> or <@U456> in <#C1|learning>, see <https://ex.org/a|the guide> or <https://ex.org/b>",
        usertext.DESCRIPTION,
    )
    assert (
        cleaned == "Ask ana or a colleague in #learning, see the guide (https://ex.org/a) or https://ex.org/b"
    )
    assert (
        usertext.clean(ENGLISH, "write to ana@example.org\n\tthanks", usertext.SKILL)
        == "write to ana@example.org thanks"
    )
    with pytest.raises(UserError, match="can't be empty"):
        usertext.clean(ENGLISH, "   ", usertext.SKILL)
