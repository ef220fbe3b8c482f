"""``/learning office`` and ``/learning move`` on the console, Slack and Teams."""

from __future__ import annotations

from sqlalchemy import select

from bot.people import person_by_email
from storage.models import Person
from tests.offices.conftest import COX_MANAGER, DAKAR_MANAGER
from tests.support.conversation import ChatWorld

KARIM = "karim@example.org"
FATOU = "fatou@example.org"


async def office_of(world: ChatWorld, email: str) -> tuple[str | None, str]:
    async with world.app.sessions() as session:
        person = await person_by_email(session, email)
        assert person is not None
        return person.office_id, person.office_source


async def test_a_person_chooses_their_office_once_and_their_manager_is_told(world: ChatWorld) -> None:
    rahim = world.person(COX_MANAGER, name="Rahim Uddin")
    karim = world.person(KARIM, name="Karim Hossain")
    await rahim.send("/learning office")
    await rahim.expect_reply("You're in Cox's Bazar office")
    await karim.send("/learning office")
    await karim.expect_reply("Dakar office", "default", "/learning office <name>")
    await karim.send("/learning office coxs bazar")
    reply = await karim.expect_reply("You're now in Cox's Bazar office", "let")
    if world.platform != "console":
        assert "Rahim Uddin" in reply and COX_MANAGER not in reply
    await world.deliver()
    told = await rahim.expect_reply("says they work in Cox's Bazar office (was Dakar office)")
    if world.platform != "console":
        assert "Karim Hossain" in told
    assert await office_of(world, KARIM) == ("coxs-bazar", "self")

    await karim.send("/learning office dakar")
    await karim.expect_reply("already set by you", "ask")
    assert await office_of(world, KARIM) == ("coxs-bazar", "self")

    await karim.send("/learning office Nairobi")
    await karim.expect_reply("I don't know an office called 'Nairobi'", "Dakar office (", "SN-DKR")


async def test_managers_move_people_only_within_their_scope(world: ChatWorld) -> None:
    awa = world.person(DAKAR_MANAGER, name="Awa Diop")
    rahim = world.person(COX_MANAGER, name="Rahim Uddin")
    karim = world.person(KARIM, name="Karim Hossain")
    fatou = world.person(FATOU, name="Fatou Sow")
    await rahim.send("hello")  # Rahim uses the bot, so he can be told
    await rahim.expect_reply("How can I help")
    await karim.send("/learning office BD-CXB")
    await karim.expect_reply("You're now in Cox's Bazar office")
    await world.deliver()
    await rahim.expect_reply("says they work in Cox's Bazar office")
    await fatou.send("/learning office")
    await fatou.expect_reply("You're in Dakar office")

    await awa.send(f"/learning move {KARIM} dakar")
    refusal = await awa.expect_reply("Cox's Bazar office, which you don't manage")
    assert await office_of(world, KARIM) == ("coxs-bazar", "self")
    assert "course" not in refusal.lower()

    await rahim.send(f"/learning move {KARIM} SN-DKR")
    await rahim.expect_reply("is now in Dakar office")
    assert await office_of(world, KARIM) == ("dakar", "manager")
    await world.deliver()
    await karim.expect_reply("has placed you in Dakar office")

    await karim.send("/learning office coxs bazar")
    await karim.expect_reply("already set by a learning manager")

    # Fatou is unplaced (default): Rahim may claim her into the office he manages.
    await rahim.send(f"/learning move {FATOU} cox")
    await rahim.expect_reply("I don't know an office called 'cox'")
    await rahim.send(f"/learning move {FATOU} Cox's Bazar")
    await rahim.expect_reply("is now in Cox's Bazar office")
    await world.deliver()
    await fatou.expect_reply("has placed you in Cox's Bazar office")

    await fatou.send("/learning move karim@example.org dakar")
    await fatou.expect_reply("only a learning manager")
    await awa.send("/learning move nobody@example.org dakar")
    await awa.expect_reply("I don't know anyone as 'nobody@example.org'")


async def test_imported_offices_are_fixed_in_the_lms_not_by_a_move(world: ChatWorld) -> None:
    from bot.people import OfficeSource, assign_office

    awa = world.person(DAKAR_MANAGER, name="Awa Diop")
    karim = world.person(KARIM, name="Karim Hossain")
    await karim.send("/learning office")
    await karim.expect_reply("You're in Dakar office")
    async with world.app.sessions() as session, session.begin():
        person = await session.scalar(select(Person).where(Person.email == KARIM))
        assert person is not None
        assign_office(world.app.config, person, "dakar", OfficeSource.IMPORT, world.app.clock.now())
    await awa.send(f"/learning move {KARIM} coxs-bazar")
    await awa.expect_reply("I left", "in Dakar office", "LMS import")
    assert await office_of(world, KARIM) == ("dakar", "import")
    await karim.send("/learning office")
    await karim.expect_reply("Dakar office", "the LMS import", "ask")
