"""Writing a channel's weekly digest as one neutral message (each adapter renders it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.features.picks import actions
from bot.features.picks.store import SuggestedBy
from bot.features.picks.text import format_duration, shorten
from bot.i18n import N_, Translator
from bot.messages import Button, Buttons, Header, LinkCard, Message, Note
from storage.picks import PickItem

KIND_LABEL = {"talk": N_("Talk"), "article": N_("Article")}


def byline(item: PickItem) -> str:
    """ "Speaker · TED Talks · 12 min": who, where from, and how long when known."""
    parts = [p for p in (item.speaker, item.source, format_duration(item.duration_seconds)) if p]
    return " · ".join(parts)


def digest_message(
    t: Translator, title: str, items: Sequence[PickItem], suggested: Mapping[int, SuggestedBy]
) -> Message:
    """The digest in the channel's language (the office's locale); feed texts stay as written."""
    title = t._(title)
    blocks: list[Any] = [Header(title)]
    lines = [title]
    for item in items:
        description = item.summary
        by = suggested.get(item.id)
        if by is not None:
            credit = (
                t._("Suggested by {name}: “{why}”", name=by.name, why=by.why)
                if by.why
                else t._("Suggested by {name}", name=by.name)
            )
            description = shorten(f"{description} ({credit})".strip(), 400)
        kind = t._(KIND_LABEL[item.kind]) if item.kind in KIND_LABEL else item.kind.title()
        blocks.append(
            LinkCard(
                title=f"{kind}: {item.title}",
                url=item.url,
                description=description,
                source=byline(item),
                image_url=item.image_url,
            )
        )
        blocks.append(Buttons([Button(t._("Useful"), actions.USEFUL, value=str(item.id))]))
        lines.append(f"• {item.title} ({byline(item)}) {item.url}")
    blocks.append(
        Note(
            t._(
                "Press “Useful” on what helped you: it shapes next week's picks. "
                "Found something worth sharing? `/learning share <link> why`"
            )
        )
    )
    return Message(text="\n".join(lines), blocks=blocks)
