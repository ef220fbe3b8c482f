from tests.support.conversation import ConsoleDriver


async def test_help_lists_commands(chat: ConsoleDriver) -> None:
    await chat.send("/learning help")
    await chat.expect_reply("/learning me", "/learning timezone")
