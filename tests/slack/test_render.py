from __future__ import annotations

from adapters.slack.render import (
    MAX_MESSAGE_BLOCKS,
    escape,
    flatten,
    render_home,
    render_message,
    render_modal,
    split,
    strip_action_suffix,
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
)
from tests.slack.blockkit import check_blocks

EVIL = "<!channel> & <https://evil.example|your bank> <@U0BOSS>"


def _texts(blocks: list[dict]) -> list[str]:
    out = []
    for block in blocks:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                out.append(obj["text"])
    return out


def test_every_block_kind_is_valid_and_round_trips() -> None:
    message = Message(
        text="All kinds",
        blocks=[
            Header("Weekly picks"),
            Text("Hello *team*, see [the agenda](https://example.org/a?b=1&c=2)."),
            Text("plain words, no *formatting*", markdown=False),
            LinkCard(
                title="How to learn",
                url="https://ted.example/talk",
                description="A talk",
                source="TED",
                image_url="https://img.example/x.png",
            ),
            Fields([("Course", "Ethics"), ("Due", "Friday"), ("Empty", "")]),
            Buttons(
                [
                    Button("Done", "nudge.done", "ethics", style="primary"),
                    Button("Done", "nudge.done", "infosec"),
                    Button("Later", "nudge.later", "x", style="danger"),
                    Button("Open", "course.open", url="https://lms.example/ethics"),
                ]
            ),
            Divider(),
            Note("Type `help` any time"),
            Form(title="Offer", submit_action_id="offer.submit", fields=[FormField("skill", "Skill")]),
        ],
    )
    text, blocks = render_message(message)
    assert text == "All kinds"
    check_blocks(blocks)
    kinds = [b["type"] for b in blocks]
    assert kinds[:2] == ["header", "section"] and "actions" in kinds and "divider" in kinds
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    ids = [a["action_id"] for a in actions]
    assert len(set(ids)) == len(ids), "action ids must be unique within a block"
    assert [strip_action_suffix(i) for i in ids[:3]] == ["nudge.done", "nudge.done", "nudge.later"]
    assert "<https://example.org/a?b=1&amp;c=2|the agenda>" in blocks[1]["text"]["text"]


def test_user_text_cannot_mention_or_fake_a_link() -> None:
    message = Message(
        text=EVIL,
        blocks=[
            Text(f"You said: {EVIL}"),
            LinkCard(title=EVIL, url="https://ok.example", description=EVIL, source=EVIL),
            Fields([(EVIL, EVIL)]),
            Note(EVIL),
        ],
    )
    text, blocks = render_message(message)
    check_blocks(blocks)
    for rendered in [text, *_texts(blocks)]:
        assert "<!channel>" not in rendered and "<@U0BOSS>" not in rendered
        assert "<https://evil.example" not in rendered
    assert "&lt;!channel&gt; &amp;" in text
    # what a reader sees is exactly what was typed
    assert EVIL in flatten(blocks)


def test_unsafe_link_urls_are_shown_as_text() -> None:
    _, blocks = render_message(Message(text="x", blocks=[LinkCard(title="Click", url="javascript:alert(1)")]))
    check_blocks(blocks)
    assert blocks[0]["text"]["text"] == "*Click*"


def test_long_content_is_split_or_shortened_never_rejected() -> None:
    paragraph = ("word " * 180 + "\n\n") * 8  # ~7,200 characters
    message = Message(
        text="long " * 20_000,
        blocks=[
            Header("H" * 400),
            Text(paragraph),
            LinkCard(title="T" * 900, url="https://example.org/" + "a" * 100, description="d " * 3000),
            Fields([(f"label {i}", "v" * 2500) for i in range(23)]),
            Buttons([Button("B" * 100, f"act.{i}", "x" * 2100) for i in range(30)]),
            Note("n" * 4000),
        ],
    )
    text, blocks = render_message(message)
    check_blocks(blocks)
    assert len(text) <= 3000
    assert blocks[0]["text"]["text"].endswith("…") and len(blocks[0]["text"]["text"]) == 150
    sections = [
        b for b in blocks if b["type"] == "section" and "text" in b and b["text"]["text"].startswith("word")
    ]
    assert len(sections) == 3
    assert " ".join(s["text"]["text"] for s in sections).split() == paragraph.split()
    field_sections = [b for b in blocks if "fields" in b]
    assert [len(b["fields"]) for b in field_sections] == [10, 10, 3]
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [25, 5]


def test_more_than_fifty_blocks_end_with_a_note() -> None:
    message = Message(text="many", blocks=[Text(f"item {i}") for i in range(80)])
    _, blocks = render_message(message)
    check_blocks(blocks)
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    assert "31 more" in blocks[-1]["elements"][0]["text"]


def test_split_never_cuts_a_link_or_an_entity() -> None:
    text = escape("x" * 2990 + " & ") + "<https://example.org|link> tail"
    pieces = split(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert any("<https://example.org|link>" in p for p in pieces)
    assert all(not p.endswith("&am") for p in pieces)


def test_plain_message_without_blocks_still_has_a_section() -> None:
    text, blocks = render_message(Message(text="Hi <there>"))
    check_blocks(blocks)
    assert blocks[0]["text"]["text"] == "Hi &lt;there&gt;" == text


def test_modal_and_home_views_are_valid() -> None:
    form = Form(
        title="Offer a skill to your colleagues",
        submit_action_id="offer.submit",
        fields=[
            FormField("skill", "Skill", initial="Excel"),
            FormField("level", "Level", kind="choice", options=["a", "b"], initial="b"),
            FormField("notes", "Notes", kind="long_text", optional=True, max_length=9000),
        ],
    )
    view = render_modal(Message(text="x", blocks=[Header("Offer"), form]), form, {"action": "offer.submit"})
    check_blocks(view["blocks"])
    assert len(view["title"]["text"]) <= 24
    assert [b["type"] for b in view["blocks"]] == ["header", "input", "input", "input"]
    assert view["blocks"][2]["element"]["initial_option"]["value"] == "b"
    assert view["blocks"][3]["element"]["max_length"] == 3000

    home = render_home(
        [Message(text="a", blocks=[Header("Hi")]), Message(text="b", blocks=[Text("x")] * 120)]
    )
    check_blocks(home["blocks"])
    assert home["type"] == "home" and len(home["blocks"]) == 100
