"""Activities posted over HTTP to /api/messages, replies read from the fake Bot Connector."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from adapters.teams import refs
from storage.models import ConversationRef, OutboxMessage, Person, PlatformAccount
from tests.teams.fake_connector import FakeConnector
from tests.teams.world import BOT_ID, TENANT, TeamsWorld


async def test_install_records_the_person_stores_the_reference_and_welcomes(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org", name="Ana Pérez", timezone="Africa/Nairobi")
    await ana.install()
    assert "Welcome, Ana Pérez!" in "\n".join(ana.outputs + [a.get("summary", "") for a in ana.shown])
    async with teams.app.sessions() as session:
        person = await session.scalar(select(Person).where(Person.email == "ana@example.org"))
        assert person is not None
        assert person.display_name == "Ana Pérez"
        assert person.timezone == "Africa/Nairobi"
        account = await session.scalar(select(PlatformAccount).where(PlatformAccount.person_id == person.id))
        assert account is not None
        assert (account.platform, account.workspace_id) == ("teams", TENANT)
        assert account.external_id == ana.member.aad_object_id
        ref = await refs.load(session, refs.PERSON, str(person.id))
    assert ref is not None
    assert ref.conversation_id == ana.conversation_id
    assert ref.service_url == teams.connector.url
    assert ref.bot_id == BOT_ID


async def test_commands_with_and_without_slash(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.send("learning me")
    await ana.expect_reply("Your profile", "ana@example.org")
    await ana.send("/learning help")
    await ana.expect_reply("/learning timezone")


async def test_channel_mention_is_stripped_and_the_reply_is_threaded(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    conversation = "19:learning@thread.tacv2;messageid=1700000000"
    activity = ana.activity(
        "message",
        text="<at>Learnbot</at> learning help",
        entities=[
            {
                "type": "mention",
                "mentioned": {"id": BOT_ID, "name": "Learnbot"},
                "text": "<at>Learnbot</at>",
            }
        ],
        conversation={"id": conversation, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
        channelData={"tenant": {"id": TENANT}, "channel": {"id": "19:learning@thread.tacv2"}},
    )
    await teams.post(activity)
    replies = teams.connector.in_conversation(conversation)
    assert replies, "no reply in the channel thread"
    assert replies[-1]["replyToId"] == activity["id"]
    assert "Here's what I can do" in teams.posts["learning"][-1]


async def test_private_reply_to_a_channel_command_goes_to_the_dm(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    activity = ana.activity(
        "message",
        text="<at>Learnbot</at> demo private",
        entities=[
            {"type": "mention", "mentioned": {"id": BOT_ID, "name": "Learnbot"}, "text": "<at>Learnbot</at>"}
        ],
        conversation={"id": "19:learning@thread.tacv2", "conversationType": "channel", "tenantId": TENANT},
        channelData={"tenant": {"id": TENANT}, "channel": {"id": "19:learning@thread.tacv2"}},
    )
    await teams.post(activity)
    await ana.expect_reply("just for you")
    # only the pointer, never the content, in the channel
    assert teams.posts.get("learning") == ["I've sent you the details privately."]


async def test_a_redelivered_activity_is_handled_once(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    activity = ana.activity("message", text="learning help")
    await teams.post(activity)
    await teams.post(activity)
    assert len(ana.outputs) == 1


async def test_card_buttons_are_button_presses(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.send("demo card <b>hi</b> [x](http://evil)")
    await ana.expect_reply("Pick a fruit", "[Apple]", "[Cherry]", "You said: <b>hi</b> [x](http://evil)")
    await ana.press("Cherry")
    await ana.expect_reply("You picked cherry.")


async def test_form_submit_carries_the_inputs(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.send("demo form")
    await ana.expect_reply("Offer a skill", "Skill", "Level", "expert")
    await ana.press("Submit")
    await ana.expect_reply("Thanks: Excel (basic).")


async def test_action_execute_invoke(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    invoke = ana.activity(
        "invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": "demo.pick", "data": {"value": "apple"}},
            "trigger": "manual",
        },
    )
    async with teams.http.post(teams.server.url, json=invoke) as response:
        assert response.status == 200
        body = await response.json()
    assert body["statusCode"] == 200
    await ana.expect_reply("You picked apple.")


async def test_invoke_without_an_action_is_a_bad_request(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    invoke = ana.activity("invoke", name="adaptiveCard/action", value={"action": {"type": "Action.Execute"}})
    async with teams.http.post(teams.server.url, json=invoke) as response:
        assert response.status == 400
        assert "action_id" in (await response.json())["value"]["message"]


async def test_team_install_stores_the_channel_and_new_members_get_a_private_welcome(
    teams: TeamsWorld, connector: FakeConnector
) -> None:
    async with teams.app.sessions() as session:
        stored = await refs.load(session, refs.CHANNEL, "learning")
    assert stored is not None and stored.conversation_id == "19:learning@thread.tacv2"
    # Bea joins the team: she has no 1:1 chat with the bot yet, so the bot creates one.
    bea = teams.person("bea@example.org", name="Bea")
    bea.installed = True  # she never installed the app herself
    await teams.post(
        {
            "type": "conversationUpdate",
            "id": f"f:{uuid.uuid4().hex}",
            "channelId": "msteams",
            "serviceUrl": connector.url,
            "from": {"id": "29:admin"},
            "recipient": {"id": BOT_ID, "name": "Learnbot"},
            "conversation": {
                "id": "19:learning@thread.tacv2",
                "conversationType": "channel",
                "tenantId": TENANT,
            },
            "channelData": {"tenant": {"id": TENANT}, "channel": {"id": "19:learning@thread.tacv2"}},
            "membersAdded": [bea.account()],
        }
    )
    await teams.worker.drain()
    await bea.expect_reply("Welcome, Bea!")
    assert connector.created and connector.created[0]["members"][0]["id"] == bea.member.id
    async with teams.app.sessions() as session:
        person_id = await session.scalar(select(Person.id).where(Person.email == "bea@example.org"))
        ref = await refs.load(session, refs.PERSON, str(person_id))
    assert ref is not None and ref.conversation_id == f"a:created-{bea.member.id}"


async def test_unknown_channel_is_not_stored(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    await teams.post(
        ana.activity(
            "message",
            text="<at>Learnbot</at> learning help",
            entities=[{"type": "mention", "mentioned": {"id": BOT_ID}, "text": "<at>Learnbot</at>"}],
            conversation={"id": "19:random@thread.tacv2", "conversationType": "channel", "tenantId": TENANT},
            channelData={"tenant": {"id": TENANT}, "channel": {"id": "19:random@thread.tacv2"}},
        )
    )
    async with teams.app.sessions() as session:
        keys = set(
            await session.scalars(
                select(ConversationRef.owner_key).where(ConversationRef.owner_kind == "channel")
            )
        )
    assert keys == {"learning", "aprendizaje"}


async def test_roster_failure_falls_back_to_the_activity(teams: TeamsWorld, connector: FakeConnector) -> None:
    carl = teams.person("carl@example.org", name="Carl")
    del connector.members[carl.member.id]  # not in the roster: 404 from GET members
    await carl.send("learning me")
    await carl.expect_reply("Your profile", "Carl")


async def test_non_json_is_refused(teams: TeamsWorld) -> None:
    async with teams.http.post(
        teams.server.url, data="hello", headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415


async def test_installation_update_stores_and_uninstall_forgets(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    ana.installed = True  # only the installationUpdate, no conversationUpdate this time
    await teams.post(ana.activity("installationUpdate", action="add"))
    async with teams.app.sessions() as session:
        person_id = await session.scalar(select(Person.id).where(Person.email == "ana@example.org"))
        assert await refs.load(session, refs.PERSON, str(person_id)) is not None
    await teams.post(ana.activity("installationUpdate", action="remove"))
    async with teams.app.sessions() as session:
        assert await refs.load(session, refs.PERSON, str(person_id)) is None
    await ana.expect_nothing()  # no second welcome from an installationUpdate


async def test_a_reply_teams_refuses_is_queued_in_the_outbox_not_lost(teams: TeamsWorld) -> None:
    ana = teams.person("ana@example.org")
    await ana.install()
    teams.connector.fail_next(502)
    await teams.post(ana.activity("message", text="learning me"))
    async with teams.app.sessions() as session:
        queued = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("teams-reply:"))
        )
    assert queued is not None and queued.status == "pending"
    await teams.deliver()
    await ana.expect_reply("Your profile")
