"""The LMS import's office and name columns place people (strongest source) and name them."""

from __future__ import annotations

from bot.core import Learnbot
from bot.features.lms.apply import import_text
from bot.people import person_by_email
from tests.offices.conftest import DAKAR_MANAGER
from tests.support.conversation import ConsoleWorld


async def test_import_office_column_with_codes_and_names(app: Learnbot) -> None:
    world = ConsoleWorld(app)
    karim = world.person("karim@example.org")
    await karim.send("/learning office dakar")  # his own choice first ...
    await karim.expect_reply("You're now in Dakar office")
    csv = (
        "email,name,course,due,office\n"
        "karim@example.org,Karim Hossain,ethics,2026-12-20,BD-CXB\n"
        "fatou@example.org,Fatou Sow,ethics,2026-12-20,Dakar\n"
    )
    await import_text(app, csv, "assignments")  # ... the LMS says otherwise, and wins
    async with app.sessions() as session:
        person = await person_by_email(session, "karim@example.org")
        assert person is not None
        assert (person.office_id, person.office_source, person.display_name) == (
            "coxs-bazar",
            "import",
            "Karim Hossain",
        )
    awa = world.person(DAKAR_MANAGER)
    await awa.expect_reply("says they work in Dakar office")  # told when Karim chose
    await awa.send("/learning move karim@example.org dakar")
    await awa.expect_reply("Karim Hossain", "which you don't manage")
    await karim.send("/learning office")
    await karim.expect_reply("Cox's Bazar office", "the LMS import")
