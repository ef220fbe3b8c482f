"""What the nudges say, in the reader's language. Friendly and private: a reminder is a favour,
never a warning, and it reads in about ten seconds (the longer explanation is in ``help``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.config import Course
from bot.features.nudges import actions
from bot.features.nudges.stages import Stage
from bot.i18n import N_, Translator
from bot.messages import Block, Button, Buttons, Fields, Header, LinkCard, Message, Note, Text
from storage.nudges import Assignment, Source

UNDERSTOOD = N_(
    "Answer with the buttons or in your own words, e.g. `done yesterday`, `remind me on Friday`, "
    "`next week`, `in 3 days`, `I can't access the course`, `I'm on leave` or `not mine`."
)


def nudge(
    t: Translator, name: str, course: Course, due_on: date, stage: Stage, assignment_id: int, today: date
) -> Message:
    """At most about 50 words with the buttons. The wording follows the dates, not the stage:
    a due-day reminder held over a weekend arrives saying when it was due, not "due today"."""
    first = name.split(" ")[0] if name and "@" not in name else ""
    if due_on == today:
        when = t._("*{course}* is due today.", course=course.title)
    elif due_on < today:
        when = t._(
            "*{course}* was due on {day}. It's not too late.", course=course.title, day=t.day(due_on, today)
        )
    else:
        when = t._("*{course}* is due on {day}.", course=course.title, day=t.day(due_on, today))
    if stage.name.startswith("snooze-"):
        when = t._("as you asked, again today: {when}", when=when)
    text = t._("Hi {name}, {when}", name=first, when=when) if first else t._("Hi, {when}", when=when)
    blocks: list[Block] = [Header(t._("Reminder: {course}", course=course.title)), Text(text)]
    if course.url:
        blocks.append(LinkCard(title=course.title, url=course.url, description=t._("Open the course")))
    value = str(assignment_id)
    blocks.append(
        Buttons(
            [
                Button(t._("Done"), actions.DONE, value, style="primary"),
                Button(t._("Remind me later"), actions.LATER, value),
                Button(t._("I need help"), actions.HELP, value),
            ]
        )
    )
    blocks.append(Note(t._("Only you see this. Reply in your own words, or type `help`.")))
    return Message(text=text, blocks=blocks, dm=True)


def sweep_summary(planned: int, waiting: int, capped: int, waiting_in_all: int) -> str:
    """What a reminder run did, for ``run-job`` and the job log: planned (and how many of those
    wait for the person to become reachable), held back by the daily cap, waiting in all."""
    text = f"{planned} reminder(s) planned"
    if waiting:
        text += f" ({waiting} of them waiting until the person can be reached)"
    text += f"; {capped} held back by the daily cap (people outside their working hours wait for them)"
    if waiting_in_all:
        text += (
            f"; {waiting_in_all} reminder(s) in all are waiting for people Learnbot cannot reach yet "
            "(`learnbot reach` says who and what to fix)"
        )
    return text


def thanks(t: Translator, course: Course) -> Message:
    text = t._("Thank you for completing *{course}*! It's recorded. 🎉", course=course.title)
    return Message(text=text, blocks=[Text(text)], dm=True)


def kudos(t: Translator, name: str, course: Course) -> Message:
    text = t._("Kudos to {name} for completing {course}! 👏", name=name, course=course.title)
    return Message(
        text=text, blocks=[Text(text), Note(t._("People choose to appear here with `/learning kudos on`."))]
    )


_HOW: dict[str, str] = {
    Source.SELF_REPORTED: N_("you said so; awaiting confirmation"),
    Source.CONFIRMED: N_("confirmed"),
    Source.LMS: N_("recorded in the LMS"),
}


def status(t: Translator, assignment: Assignment, today: date) -> str:
    """One assignment's state as a person reads it ("overdue since Friday 4 December")."""
    if assignment.completed_on is not None:
        done = t._("done on {day}", day=t.day(assignment.completed_on, today))
        how = _HOW.get(assignment.completion_source or "", "")
        return f"{done} ({t._(how)})" if how else done
    due = t.day(assignment.due_on, today)
    if assignment.paused_reason:
        return t._("reminders paused until your learning manager decides; due {day}", day=due)
    if assignment.completion_source == Source.REJECTED:
        return t._("not found in the course records yet; due {day}", day=due)
    if assignment.due_on < today:
        return t._("overdue since {day}", day=due)
    if assignment.due_on == today:
        return t._("due today")
    return t._("due {day}", day=due)


def own_courses(t: Translator, courses: Sequence[tuple[Course, list[Assignment]]], today: date) -> Message:
    """Per course: the latest completion and the open assignment if any."""
    heading = t._("Your mandatory courses")
    blocks: list[Block] = [Header(heading)]
    lines = []
    for course, items in courses:
        open_one = next((a for a in items if a.completed_on is None), None)
        done = [a for a in items if a.completed_on is not None]
        parts = []
        if done:
            parts.append(status(t, done[-1], today))
        if open_one is not None:
            now = status(t, open_one, today)
            parts.append(t._("next: {status}", status=now) if done else now)
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
            t._(
                "Only you see this. Finished one? Type `done` after its reminder, or tell your learning "
                "manager."
            )
        )
    )
    return Message(text=heading + ":\n" + "\n".join(lines), blocks=blocks)


def review(t: Translator, pending: Sequence[tuple[str, Course, Assignment]], today: date) -> Message:
    """The manager's list of self-reported completions, each with Confirm and Reject buttons."""
    blocks: list[Block] = [Header(t._("Self-reported completions to review"))]
    for name, course, assignment in pending:
        day = t.day(assignment.completed_on or today, today)
        blocks.append(Text(t._("{name}: {course} (done {day})", name=name, course=course.title, day=day)))
        value = str(assignment.id)
        blocks.append(
            Buttons(
                [
                    Button(t._("Confirm {name}", name=name), actions.CONFIRM, value, style="primary"),
                    Button(t._("Reject {name}", name=name), actions.REJECT, value, style="danger"),
                ]
            )
        )
    blocks.append(
        Note(t._("Or type `/learning confirm <email> <course>` / `/learning reject <email> <course>`."))
    )
    count = t.ngettext(
        "{n} self-reported completion to review", "{n} self-reported completions to review", len(pending)
    )
    return Message(text=count, blocks=blocks, dm=True)


def which_help(t: Translator, course: Course, assignment_id: int, general: Message) -> Message:
    """A bare "help" right after a reminder: ask whether it is about the course."""
    return Message(
        text=t._("Do you need help with {course}?", course=course.title) + " " + general.text,
        blocks=[
            Text(
                t._(
                    "Do you need help with *{course}*? I can ask your learning manager to get in touch, "
                    "privately.",
                    course=course.title,
                )
            ),
            Buttons([Button(t._("Yes, I need help with the course"), actions.HELP, str(assignment_id))]),
            *general.blocks,
        ],
    )


def clarify(t: Translator, course: Course, assignment_id: int) -> Message:
    """One short question back when a reply could mean several things ("yes", "c'est bon")."""
    text = t._("About *{course}*: have you finished it, or shall I remind you later?", course=course.title)
    value = str(assignment_id)
    return Message(
        text=text,
        blocks=[
            Text(text),
            Buttons(
                [
                    Button(t._("I've finished it"), actions.DONE, value, style="primary"),
                    Button(t._("Remind me later"), actions.LATER, value),
                    Button(t._("I need help"), actions.HELP, value),
                ]
            ),
        ],
    )


def manager_notice(
    t: Translator, contact: str, course: Course, due: str, what: str, assignment_id: int
) -> Message:
    """What a learning manager is told privately when someone says the course is not for them,
    that they are exempt, on leave, or want the reminders to stop: reminders pause meanwhile."""
    text = t._(
        "{contact} about *{course}* (due {day}): {what}. Reminders for it are paused until you decide. "
        "Only you can see this.",
        contact=contact,
        course=course.title,
        day=due,
        what=what,
    )
    value = str(assignment_id)
    return Message(
        text=text,
        blocks=[Text(text), Buttons([Button(t._("Resume reminders"), actions.RESUME, value)])],
        dm=True,
    )


def help_notice(t: Translator, contact: str, course: Course, due: str, reason: str) -> Message:
    text = t._(
        "{contact} asked for help with *{course}* (due {day}): {reason}. Only you can see this.",
        contact=contact,
        course=course.title,
        day=due,
        reason=reason,
    )
    return Message(text=text, blocks=[Text(text)], dm=True)


def question_notice(t: Translator, contact: str, course: Course, due: str, question: str) -> Message:
    text = t._(
        '{contact} has a question about *{course}* (due {day}): "{question}". Only you can see this.',
        contact=contact,
        course=course.title,
        day=due,
        question=question,
    )
    return Message(text=text, blocks=[Text(text)], dm=True)
