"""The Adaptive Card renderer: every block kind, escaping, and Teams' size limit."""

from __future__ import annotations

import json

from adapters.teams.render import (
    CARD_CONTENT_TYPE,
    MAX_ACTIVITY_BYTES,
    SHORTENED_NOTE,
    escape,
    flatten,
    render_activity,
    size_of,
    unescape,
)
from bot.messages import (
    Button,
    Buttons,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    LinkCard,
    Message,
    Note,
    Text,
    plain,
)
from tests.teams.schemas import problems


def sent(activity: dict) -> dict:
    """The activity as botbuilder sends it (it adds where it goes before posting)."""
    return {**activity, "channelId": "msteams", "conversation": {"id": "a:1"}, "serviceUrl": "http://x/"}


EVERYTHING = Message(
    text="All blocks",
    blocks=[
        Header("This week's picks"),
        Text("*Bold* and _italic_ and <https://example.org/a_b|a link>"),
        LinkCard("A talk", "https://example.org/talk", "Why we learn", "TED", "https://example.org/img.png"),
        LinkCard("An article", "https://example.org/article"),
        Fields([("Course", "Ethics"), ("Due", "2026-12-08")]),
        Buttons(
            [Button("Done", "nudge.done", "7", style="primary"), Button("Open", "x", url="https://e.org")]
        ),
        Divider(),
        Note("Type `help` any time"),
        Form(
            title="Offer",
            submit_action_id="skillshare.offer",
            fields=[
                FormField("skill", "Skill"),
                FormField("about", "About", kind="long_text", optional=True, initial="hi"),
                FormField("level", "Level", kind="choice", options=["a", "b"], initial="a"),
            ],
        ),
    ],
    attachments={"day.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n"},
)


def test_every_block_renders_to_a_valid_card() -> None:
    activity = render_activity(EVERYTHING)
    assert problems(sent(activity)) == []
    card = activity["attachments"][0]
    assert card["contentType"] == CARD_CONTENT_TYPE
    assert card["content"]["version"] == "1.5"
    text = flatten(activity)
    for fragment in (
        "This week's picks",
        "Bold and italic and a link (https://example.org/a_b)",
        "A talk",
        "Why we learn",
        "Course: Ethics",
        "[Done]",
        "[Open]",
        "Type help any time",
        "Skill",
        "[Submit]",
        "[attachment: day.ics]",
    ):
        assert fragment in text
    assert "**Bold**" in json.dumps(activity)


def test_plain_messages_are_markdown_text() -> None:
    activity = render_activity(Message(text="Hello *you*"))
    assert activity == {"type": "message", "text": "Hello **you**", "textFormat": "markdown"}
    assert problems(sent(activity)) == []


def test_user_text_cannot_inject_formatting_links_or_mentions() -> None:
    typed = "**boss** [click](https://evil.example) <at>Everyone</at>\n# title\n- item\n1. first _x_"
    escaped = escape(typed)
    for marker in ("**", "[click]", "](", "<at>", "\n# title", "\n- item", "\n1. first", " _x_"):
        assert marker not in escaped
    assert unescape(escaped) == typed
    activity = render_activity(Message(text=typed, blocks=[Header(typed), Text(typed, markdown=False)]))
    assert "<at>" not in json.dumps(activity["attachments"])  # the summary is plain text, never markdown
    assert flatten(activity).count(typed) == 2


def test_button_styles_and_submit_data() -> None:
    activity = render_activity(EVERYTHING)
    actions = [
        element["actions"]
        for element in activity["attachments"][0]["content"]["body"]
        if element["type"] == "ActionSet"
    ]
    done, open_url = actions[0]
    assert done == {
        "type": "Action.Submit",
        "title": "Done",
        "style": "positive",
        "data": {"action_id": "nudge.done", "value": "7"},
    }
    assert open_url == {"type": "Action.OpenUrl", "title": "Open", "url": "https://e.org"}
    assert actions[1][0]["data"] == {"action_id": "skillshare.offer", "form": True}


def test_huge_messages_are_shortened_with_a_note_never_refused() -> None:
    huge = Message(
        text="Report",
        blocks=[Header("Report")]
        + [Fields([(f"Person {i}", "x" * 300) for i in range(20)]) for _ in range(30)],
    )
    activity = render_activity(huge)
    assert size_of(activity) <= MAX_ACTIVITY_BYTES
    assert SHORTENED_NOTE in flatten(activity)
    assert "Report" in flatten(activity)
    assert problems(sent(activity)) == []

    long_text = render_activity(plain("word " * 20_000))
    assert size_of(long_text) <= MAX_ACTIVITY_BYTES
    assert problems(sent(long_text)) == []

    one_block = render_activity(Message(text="t", blocks=[Text("é" * 50_000)]))
    assert size_of(one_block) <= MAX_ACTIVITY_BYTES

    big_file = render_activity(Message(text="t", blocks=[Text("x")], attachments={"a.ics": "x" * 60_000}))
    assert size_of(big_file) <= MAX_ACTIVITY_BYTES
    assert problems(sent(big_file)) == []


def test_links_in_bot_text_always_show_where_they_go() -> None:
    # A skill title someone typed, inside a sentence the bot wrote.
    activity = render_activity(Message(text="t", blocks=[Text("Ana offers <https://evil.example|Excel>")]))
    card_text = activity["attachments"][0]["content"]["body"][0]["text"]
    assert "](" not in card_text
    assert flatten(activity) == "Ana offers Excel (https://evil.example)"
