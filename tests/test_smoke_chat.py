from tests.support.conversation import ChatWorld, ConsoleDriver


async def test_help_lists_commands(chat: ConsoleDriver) -> None:
    await chat.send("/learning help")
    await chat.expect_reply("/learning me", "/learning timezone")


async def test_welcome_is_a_private_dm(world: ChatWorld) -> None:
    ana = world.person("ana@example.org")
    await ana.send("hello")
    await ana.expect_reply("How can I help")
