"""What the nudges say. Friendly and private: a reminder is a favour, never a warning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.config import Course
from bot.features.nudges import actions
from bot.features.nudges.stages import Stage
from bot.messages import Block, Button, Buttons, Fields, Header, LinkCard, Message, Note, Text
from storage.nudges import Assignment, Source

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
                Button("Done", actions.DONE, value, style="primary"),
                Button("Remind me later", actions.LATER, value),
                Button("I need help", actions.HELP, value),
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


_HOW: dict[str, str] = {
    Source.SELF_REPORTED: "you said so; awaiting confirmation",
    Source.CONFIRMED: "confirmed",
    Source.LMS: "recorded in the LMS",
}


def status(assignment: Assignment, today: date) -> str:
    """One assignment's state as a person reads it ("overdue since Friday 4 December")."""
    if assignment.completed_on is not None:
        how = _HOW.get(assignment.completion_source or "", "")
        return f"done on {day(assignment.completed_on, today)}" + (f" ({how})" if how else "")
    due = day(assignment.due_on, today)
    if assignment.completion_source == Source.REJECTED:
        return f"not found in the course records yet; due {due}"
    if assignment.due_on < today:
        return f"overdue since {due}"
    if assignment.due_on == today:
        return "due today"
    return f"due {due}"


def own_courses(courses: Sequence[tuple[Course, list[Assignment]]], today: date) -> Message:
    """Per course: the latest completion and the open assignment if any."""
    blocks: list[Block] = [Header("Your mandatory courses")]
    lines = []
    for course, items in courses:
        open_one = next((a for a in items if a.completed_on is None), None)
        done = [a for a in items if a.completed_on is not None]
        parts = []
        if done:
            parts.append(status(done[-1], today))
        if open_one is not None:
            parts.append(("next " if done else "") + status(open_one, today))
        state = "; ".join(parts)
        lines.append(f"{course.title}: {state}")
        if open_one is not None and course.url:
            blocks.append(
                LinkCard(title=course.title, url=course.url, description=state[0].upper() + state[1:])
            )
        else:
            blocks.append(Fields([(course.title, state)]))
    blocks.append(
        Note(
            "Only you see this. Finished one? Type `done` after its reminder, or tell your learning manager."
        )
    )
    return Message(text="Your mandatory courses:\n" + "\n".join(lines), blocks=blocks)


def review(pending: Sequence[tuple[str, Course, Assignment]], today: date) -> Message:
    """The manager's list of self-reported completions, each with Confirm and Reject buttons."""
    blocks: list[Block] = [Header("Self-reported completions to review")]
    for name, course, assignment in pending:
        blocks.append(Text(f"{name}: {course.title} (done {day(assignment.completed_on or today)})"))
        value = str(assignment.id)
        blocks.append(
            Buttons(
                [
                    Button(f"Confirm {name}", actions.CONFIRM, value, style="primary"),
                    Button(f"Reject {name}", actions.REJECT, value, style="danger"),
                ]
            )
        )
    blocks.append(Note("Or type `/learning confirm <email> <course>` / `/learning reject <email> <course>`."))
    return Message(text=f"{len(pending)} self-reported completion(s) to review", blocks=blocks, dm=True)


def which_help(course: Course, assignment_id: int, general: Message) -> Message:
    """A bare "help" right after a reminder: ask whether it is about the course."""
    return Message(
        text=f"Do you need help with {course.title}? {general.text}",
        blocks=[
            Text(
                f"Do you need help with *{course.title}*? I can ask your learning manager "
                "to get in touch, privately."
            ),
            Buttons([Button("Yes, I need help with the course", actions.HELP, str(assignment_id))]),
            *general.blocks,
        ],
    )
