"""The Adaptive Card renderer: every block kind, escaping, and Teams' size limit."""

from __future__ import annotations

import json
import re

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
    attachments={"learning-day-3.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n"},
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
    for marker in ("**", "[click]", "<at>", "\n# title", "\n- item", "\n1. first", " _x_"):
        assert marker not in escaped
    assert not re.search(r"(?<!\\)\]\(", escaped)  # no link: its bracket is escaped
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


def test_only_markdown_is_escaped_not_punctuation() -> None:
    for typed in ("I'm Learnbot.", "Q&A (part 2)! Ready? 50% off - now", "a < b > c", "snake_case_name"):
        assert escape(typed) == typed
    assert escape("*bold* _it_ [x](y)") == "\\*bold\\* \\_it\\_ \\[x\\](y)"


def test_bullet_lines_render_as_a_list_and_lines_as_paragraphs() -> None:
    text = "Here's what I can do:\n• `/learning help` — show this list\n• `/learning me` — about you\nMore"
    block = render_activity(Message(text="t", blocks=[Text(text)]))["attachments"][0]["content"]["body"][0]
    assert block["text"] == (
        "Here's what I can do:\n\n- /learning help — show this list\n- /learning me — about you\n\nMore"
    )
    assert flatten(render_activity(Message(text="t", blocks=[Text(text)]))) == text.replace("`", "")


def test_the_summary_is_plain_text() -> None:
    activity = render_activity(
        Message(text="*Ethics* is due _Friday_: <https://lms.example/e|open it>", blocks=[Text("x")])
    )
    assert activity["summary"] == "Ethics is due Friday: open it"


def test_calendar_files_are_links_to_the_route_never_data_uris() -> None:
    message = Message(
        text="Day", blocks=[Text("A learning day")], attachments={"learning-day-7.ics": "BEGIN"}
    )
    linked = render_activity(message, public_url="https://learn.example.org/")
    assert "data:" not in json.dumps(linked)
    actions = linked["attachments"][0]["content"]["body"][-1]["actions"]
    assert actions == [
        {
            "type": "Action.OpenUrl",
            "title": "Add to calendar",
            "url": "https://learn.example.org/calendar/learning-day-7.ics",
        }
    ]
    assert problems(sent(linked)) == []
    already = Message(
        text="Day",
        blocks=[
            Buttons(
                [Button("Add to calendar", "x", url="https://learn.example.org/calendar/learning-day-7.ics")]
            )
        ],
        attachments={"learning-day-7.ics": "BEGIN"},
    )
    assert (
        json.dumps(render_activity(already, public_url="https://learn.example.org")).count("learning-day-7")
        == 1
    )
    assert "attachments" not in render_activity(Message(text="Day", attachments={"learning-day-7.ics": "B"}))


def test_a_large_report_is_measured_as_teams_measures_it() -> None:
    """A learning manager's report with names in several scripts: UTF-16, as Teams counts,
    is the size that must stay under the limit (UTF-8 undercounted it by half)."""
    rows = [
        (f"Сотрудник {i} — 山田 太郎 <{i}@example.org>", "overdue: Ethics, Security 🔒") for i in range(600)
    ]
    report = Message(
        text="Report",
        blocks=[Header("Overdue in Nairobi"), *[Fields(rows[i : i + 20]) for i in range(0, 600, 20)]],
    )
    activity = render_activity(report)
    assert len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le")) <= MAX_ACTIVITY_BYTES
    assert size_of(activity) <= MAX_ACTIVITY_BYTES
    assert SHORTENED_NOTE in flatten(activity) and "Overdue in Nairobi" in flatten(activity)
    assert problems(sent(activity)) == []
