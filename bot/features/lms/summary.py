"""The outcome of an import (or of its dry run), for people and for scripts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

TOP_SKIPPED = 10


@dataclass(slots=True)
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    completed: int = 0
    unchanged: int = 0
    next_rounds: int = 0
    new_people: list[str] = field(default_factory=list)
    not_in_chat: list[str] = field(default_factory=list)
    not_mandatory: Counter[str] = field(default_factory=Counter)
    not_completed: int = 0
    duplicates: int = 0
    renamed: int = 0
    moved_office: int = 0
    unknown_offices: Counter[str] = field(default_factory=Counter)
    out_of_scope: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def skipped(self) -> int:
        return sum(self.not_mandatory.values())

    def needs_attention(self) -> bool:
        """Something a learning manager should look at (the scheduled pull stays quiet otherwise):
        rows naming offices Learnbot doesn't know, or people outside the source's office."""
        return bool(self.unknown_offices or self.out_of_scope)

    def summary(self) -> str:
        lines = [
            f"{self.rows} row(s): {self.created} assignment(s) created, {self.updated} updated, "
            f"{self.completed} completion(s) recorded, {self.unchanged} unchanged"
        ]
        if self.next_rounds:
            lines.append(f"{self.next_rounds} next round(s) of recurring courses scheduled")
        if self.not_mandatory:
            top = ", ".join(
                f"'{name}' ({count})" for name, count in self.not_mandatory.most_common(TOP_SKIPPED)
            )
            lines.append(
                f"{self.skipped} row(s) for courses that are not mandatory were skipped; most frequent: "
                f"{top}. Add any that should be mandatory under courses (or as an alias) in app.yaml"
            )
        if self.not_completed:
            lines.append(f"{self.not_completed} row(s) not completed and without a due date: nothing to do")
        if self.duplicates:
            lines.append(f"{self.duplicates} repeated row(s) counted once")
        if self.renamed or self.moved_office:
            lines.append(
                f"{self.renamed} name(s) updated, {self.moved_office} person(s) moved to another office"
            )
        if self.unknown_offices:
            labels = ", ".join(f"'{label}'" for label, _ in self.unknown_offices.most_common(TOP_SKIPPED))
            lines.append(f"office label(s) not matching any office (those people kept theirs): {labels}")
        if self.out_of_scope:
            lines.append(
                f"{len(self.out_of_scope)} person(s) in offices you don't manage were left alone: "
                f"{_sample(self.out_of_scope)}"
            )
        if self.new_people:
            lines.append(
                f"{len(self.new_people)} email(s) new to Learnbot (added): {_sample(self.new_people)}"
            )
        if self.not_in_chat:
            lines.append(
                f"{len(self.not_in_chat)} person(s) have not used Learnbot in chat yet, so reminders "
                f"wait until they do: {_sample(self.not_in_chat)}"
            )
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "completed": self.completed,
            "unchanged": self.unchanged,
            "next_rounds": self.next_rounds,
            "skipped_not_mandatory": self.skipped,
            "top_not_mandatory": [
                {"course": name, "rows": count} for name, count in self.not_mandatory.most_common(TOP_SKIPPED)
            ],
            "not_completed": self.not_completed,
            "duplicates": self.duplicates,
            "renamed": self.renamed,
            "moved_office": self.moved_office,
            "unknown_offices": dict(self.unknown_offices),
            "out_of_scope": self.out_of_scope,
            "new_people": self.new_people,
            "not_in_chat": self.not_in_chat,
        }


def _sample(emails: Sequence[str], shown: int = 20) -> str:
    head = ", ".join(emails[:shown])
    return head + (f" and {len(emails) - shown} more" if len(emails) > shown else "")
