"""The router and the core's dispatch: commands, free text, buttons, dialogs, refusals."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from bot import dialogs
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.dialogs import Dialog
from bot.errors import UserError
from bot.events import Actor, ButtonPressed, CommandInvoked, Conversation, MessageReceived
from bot.messages import Message, plain
from bot.router import Context, Router
from storage.models import DialogState, Person, PlatformAccount

ANA = Actor(platform="console", user_id="ana@example.org", email="ana@example.org", display_name="Ana")
DM = Conversation(id="dm:ana")


def echo_feature() -> SimpleNamespace:
    """A tiny feature exercising every kind of registration."""

    def register(router: Router) -> None:
        router.describe("echo", "repeat things")

        @router.command("echo", "say", help="say it back", usage="<words>")
        async def _say(ctx: Context, args: str) -> Message:
            return plain(f"you said: {args}")

        @router.command("echo", "secret", help="managers only", managers_only=True)
        async def _secret(ctx: Context, args: str) -> Message:
            return plain("the secret")

        @router.command("echo", "fail", help="refuses")
        async def _fail(ctx: Context, args: str) -> Message:
            ctx.person.display_name = "changed"
            raise UserError("That can't be done: give a number.")

        @router.command("echo", "crash", help="breaks")
        async def _crash(ctx: Context, args: str) -> Message:
            raise RuntimeError("boom")

        @router.action("echo.press")
        async def _press(ctx: Context, value: str) -> Message:
            return plain(f"pressed {value}")

        @router.interpreter("echo", priority=10)
        async def _interpret(ctx: Context, text: str) -> Message | None:
            return plain("a number!") if text.isdigit() else None

        async def on_text(ctx: Context, state: DialogState, text: str) -> Message:
            data = {**state.data, state.step: text}
            if state.step == "first":
                await dialogs.save(
                    ctx.session,
                    ctx.person.id,
                    "echo",
                    "second",
                    data,
                    ctx.now,
                    timedelta(minutes=ctx.config.dialog_idle_minutes),
                )
                return plain("And the second?")
            await dialogs.finish(ctx.session, ctx.person.id)
            return plain(f"Got {data['first']} and {data['second']}")

        async def on_action(ctx: Context, state: DialogState, action_id: str, value: str) -> Message:
            if action_id == "echo.cancel":
                return await dialogs.cancel(ctx.session, ctx.person.id, router.dialogs["echo"], dm=True)
            return await on_text(ctx, state, f"{value} (button)")

        router.dialog(
            Dialog(
                "echo",
                "your echo",
                "Start again with /echo talk.",
                on_text,
                on_action=on_action,
                actions=frozenset({"echo.answer", "echo.cancel"}),
            )
        )

        @router.command("echo", "talk", help="a two-step conversation")
        async def _talk(ctx: Context, args: str) -> Message:
            await dialogs.save(
                ctx.session,
                ctx.person.id,
                "echo",
                "first",
                {},
                ctx.now,
                timedelta(minutes=ctx.config.dialog_idle_minutes),
            )
            return plain("The first?")

    return SimpleNamespace(register=register)


@pytest.fixture
def echo_app(config: AppConfig, sessions, clock: ManualClock) -> Learnbot:
    from bot.features import basics

    return Learnbot(config, sessions, clock=clock, features=[basics, echo_feature()])


def text_of(replies: list[Message]) -> str:
    return "\n".join(reply.text for reply in replies)


async def command(app: Learnbot, name: str, text: str, actor: Actor = ANA, **kw: str) -> str:
    return text_of(await app.handle(CommandInvoked(actor=actor, conversation=DM, name=name, text=text, **kw)))


async def say(app: Learnbot, text: str, actor: Actor = ANA) -> str:
    return text_of(await app.handle(MessageReceived(actor=actor, conversation=DM, text=text)))


async def test_command_routes_to_subcommand_with_arguments(echo_app: Learnbot) -> None:
    assert await command(echo_app, "echo", "say hello world") == "you said: hello world"
    assert await command(echo_app, "/echo", "SAY loud") == "you said: loud"


async def test_unknown_subcommand_names_it_and_shows_help(echo_app: Learnbot) -> None:
    reply = await command(echo_app, "echo", "sing")
    assert "I don't know `/echo sing`" in reply
    assert "/echo say <words>" in reply
    assert "/echo secret" not in reply  # managers-only commands are not offered to others


async def test_unknown_command_shows_general_help(echo_app: Learnbot) -> None:
    reply = await command(echo_app, "dance", "")
    assert "I don't know the command `/dance`" in reply
    assert "/echo" in reply and "/learning" in reply


async def test_typed_command_without_slash_in_a_dm(echo_app: Learnbot) -> None:
    assert await say(echo_app, "echo say hi") == "you said: hi"
    assert await say(echo_app, "/echo say hi") == "you said: hi"


async def test_managers_only_refuses_politely(echo_app: Learnbot) -> None:
    reply = await command(echo_app, "echo", "secret")
    assert "only a learning manager" in reply and "manager@example.org" in reply
    manager = Actor(platform="console", user_id="manager@example.org", email="manager@example.org")
    assert await command(echo_app, "echo", "secret", actor=manager) == "the secret"


async def test_user_error_rolls_back_and_explains(echo_app: Learnbot, sessions) -> None:
    await command(echo_app, "echo", "say first")  # creates Ana
    assert await command(echo_app, "echo", "fail") == "That can't be done: give a number."
    async with sessions() as session:
        person = await session.scalar(select(Person).where(Person.email == "ana@example.org"))
        assert person is not None and person.display_name == "Ana"


async def test_unexpected_error_says_sorry_and_keeps_serving(echo_app: Learnbot) -> None:
    assert "something went wrong on my side" in await command(echo_app, "echo", "crash")
    assert await command(echo_app, "echo", "say still here") == "you said: still here"


async def test_buttons_and_unknown_buttons(echo_app: Learnbot) -> None:
    replies = await echo_app.handle(
        ButtonPressed(actor=ANA, conversation=DM, action_id="echo.press", value="7")
    )
    assert text_of(replies) == "pressed 7"
    replies = await echo_app.handle(ButtonPressed(actor=ANA, conversation=DM, action_id="gone", value=""))
    assert "no longer does anything" in text_of(replies)


async def test_free_text_goes_to_interpreters_then_help(echo_app: Learnbot) -> None:
    assert await say(echo_app, "42") == "a number!"
    reply = await say(echo_app, "what is the weather")
    assert "didn't understand" in reply and "/echo say" in reply


async def test_dialog_survives_a_new_app_instance_and_cancel_works(
    echo_app: Learnbot, config: AppConfig, sessions, clock: ManualClock
) -> None:
    from bot.features import basics

    assert await command(echo_app, "echo", "talk") == "The first?"
    restarted = Learnbot(config, sessions, clock=clock, features=[basics, echo_feature()])
    assert await say(restarted, "apples") == "And the second?"
    assert await say(echo_app, "pears") == "Got apples and pears"
    assert await command(echo_app, "echo", "talk") == "The first?"
    assert "Cancelled your echo" in await say(echo_app, "cancel")
    assert "didn't understand" in await say(echo_app, "plums")


async def test_idle_dialog_expires_with_a_note(echo_app: Learnbot, clock: ManualClock) -> None:
    await command(echo_app, "echo", "talk")
    clock.advance(timedelta(minutes=61))
    reply = await say(echo_app, "apples")
    assert "set your echo aside" in reply and "Start again with /echo talk." in reply


async def press(app: Learnbot, action_id: str, value: str = "") -> list[Message]:
    return await app.handle(ButtonPressed(actor=ANA, conversation=DM, action_id=action_id, value=value))


async def test_a_dialog_button_resumes_the_open_dialog_like_typed_text(echo_app: Learnbot) -> None:
    await command(echo_app, "echo", "talk")
    assert text_of(await press(echo_app, "echo.answer", "apples")) == "And the second?"
    assert await say(echo_app, "pears") == "Got apples (button) and pears"


async def test_a_dialog_button_after_the_dialog_ended_says_so(echo_app: Learnbot) -> None:
    replies = await press(echo_app, "echo.answer", "apples")
    assert text_of(replies) == "That conversation has ended. Start again with /echo talk."
    assert replies[0].dm
    await command(echo_app, "echo", "talk")
    await say(echo_app, "apples")
    await say(echo_app, "pears")
    assert "conversation has ended" in text_of(await press(echo_app, "echo.answer", "plums"))


async def test_a_dialog_button_of_an_idle_dialog_gets_the_expiry_note_once(
    echo_app: Learnbot, clock: ManualClock, sessions
) -> None:
    await command(echo_app, "echo", "talk")
    clock.advance(timedelta(minutes=61))
    reply = text_of(await press(echo_app, "echo.answer", "apples"))
    assert "set your echo aside" in reply and "Start again with /echo talk." in reply
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DialogState)) == 0
    assert "conversation has ended" in text_of(await press(echo_app, "echo.answer", "apples"))


async def test_a_cancel_button_and_typed_cancel_end_a_dialog_the_same_way(echo_app: Learnbot) -> None:
    await command(echo_app, "echo", "talk")
    typed = await say(echo_app, "cancel")
    await command(echo_app, "echo", "talk")
    pressed = await press(echo_app, "echo.cancel")
    assert text_of(pressed) == typed == "Cancelled your echo; nothing was saved."
    assert "didn't understand" in await say(echo_app, "plums")


async def test_a_dialog_button_leaves_another_open_dialog_alone(
    config: AppConfig, sessions, clock: ManualClock
) -> None:
    from bot.features import basics

    async def other_text(ctx: Context, state: DialogState, text: str) -> Message:
        return plain(f"other got {text}")

    class Other:
        @staticmethod
        def register(router: Router) -> None:
            router.dialog(Dialog("other", "the other", "Start the other again.", other_text))

            @router.command("other", "go", help="start the other dialog")
            async def _go(ctx: Context, args: str) -> Message:
                await dialogs.save(
                    ctx.session, ctx.person.id, "other", "one", {}, ctx.now, timedelta(hours=1)
                )
                return plain("Other started.")

    app = Learnbot(config, sessions, clock=clock, features=[basics, echo_feature(), Other])
    await command(app, "other", "go")
    assert "conversation has ended" in text_of(await press(app, "echo.answer", "apples"))
    assert await say(app, "still here") == "other got still here"


def test_a_dialog_action_cannot_also_be_a_plain_action() -> None:
    async def on_text(ctx: Context, state: DialogState, text: str) -> None:
        return None

    async def on_action(ctx: Context, state: DialogState, action_id: str, value: str) -> None:
        return None

    async def handler(ctx: Context, value: str) -> None:
        return None

    router = Router()
    router.action("a.go")(handler)
    with pytest.raises(ValueError, match="also a plain action"):
        router.dialog(Dialog("a", "a", "", on_text, on_action=on_action, actions=frozenset({"a.go"})))
    router = Router()
    router.dialog(Dialog("a", "a", "", on_text, on_action=on_action, actions=frozenset({"a.go"})))
    with pytest.raises(ValueError, match="belongs to dialog a"):
        router.action("a.go")(handler)
    with pytest.raises(ValueError, match="already belongs to a"):
        router.dialog(Dialog("b", "b", "", on_text, on_action=on_action, actions=frozenset({"a.go"})))
    with pytest.raises(ValueError, match="no on_action"):
        Dialog("c", "c", "", on_text, actions=frozenset({"c.go"}))


async def test_same_event_id_is_handled_once(echo_app: Learnbot, sessions) -> None:
    first = await command(echo_app, "echo", "say once", event_id="Ev1")
    again = await command(echo_app, "echo", "say once", event_id="Ev1")
    assert first == "you said: once" and again == ""


async def test_person_is_linked_across_platforms_by_email(echo_app: Learnbot, sessions) -> None:
    await command(echo_app, "echo", "say hi")
    slack_ana = Actor(
        platform="slack",
        user_id="U123",
        email="Ana@Example.org",
        timezone="Africa/Nairobi",
        workspace_id="T1",
    )
    await command(echo_app, "echo", "say hi", actor=slack_ana)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
        platforms = set(await session.scalars(select(PlatformAccount.platform)))
        assert platforms == {"console", "slack"}
        person = await session.scalar(select(Person))
        assert person is not None and person.timezone == "Africa/Nairobi"


def test_duplicate_registration_is_refused() -> None:
    router = Router()

    async def handler(ctx: Context, args: str) -> None:
        return None

    router.command("x", "y", help="")(handler)
    with pytest.raises(ValueError, match="registered twice"):
        router.command("x", "y", help="")(handler)
