"""What the nudges say. Friendly and private: a reminder is a favour, never a warning."""

from __future__ import annotations

from datetime import date

from bot.config import Course
from bot.messages import Button, Buttons, Header, LinkCard, Message, Note, Text
from bot.nudges.stages import Stage

UNDERSTOOD = (
    "You can answer a reminder with the buttons, or type: `done` (or `finished it`), "
    "`remind me on Friday`, `next week`, `in 3 days`, or `I need help` / `I can't access the course`."
)


def day(value: date, today: date | None = None) -> str:
    """``Friday 4 December``: people read days, not ISO dates (the year when it differs)."""
    year = f" {value.year}" if today is not None and value.year != today.year else ""
    return f"{value:%A} {value.day} {value:%B}{year}"


def nudge(name: str, course: Course, due_on: date, stage: Stage, assignment_id: int, today: date) -> Message:
    """The wording follows the dates, not the stage: a due-day reminder held over a weekend
    arrives saying when it was due, not "due today"."""
    first = name.split(" ")[0] if name and "@" not in name else "there"
    if due_on == today:
        when = f"*{course.title}* is due today."
    elif due_on < today:
        when = (
            f"*{course.title}* was due on {day(due_on, today)}. "
            "It's not too late, and it only takes a moment to start."
        )
    else:
        when = f"*{course.title}* is due on {day(due_on, today)}."
    if stage.name.startswith("snooze-"):
        when = f"you asked me to remind you today: {when}"
    text = f"Hi {first}, {when}"
    blocks: list = [Header(f"Reminder: {course.title}"), Text(text)]
    if course.url:
        blocks.append(LinkCard(title=course.title, url=course.url, description="Open the course"))
    value = str(assignment_id)
    blocks.append(
        Buttons(
            [
                Button("Done", "nudge.done", value, style="primary"),
                Button("Remind me later", "nudge.later", value),
                Button("I need help", "nudge.help", value),
            ]
        )
    )
    blocks.append(Note("Only you see this reminder. " + UNDERSTOOD))
    return Message(text=text, blocks=blocks, dm=True)


def thanks(course: Course) -> Message:
    text = f"Thank you for completing *{course.title}*! It's recorded. 🎉"
    return Message(text=text, blocks=[Text(text)], dm=True)


def kudos(name: str, course: Course) -> Message:
    text = f"Kudos to {name} for completing {course.title}! 👏"
    return Message(
        text=text, blocks=[Text(text), Note("People choose to appear here with `/learning kudos on`.")]
    )
