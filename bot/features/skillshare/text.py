"""What people type, made safe to store and show to others, and made searchable.

Two decisions live here:

* **Broadcast mentions are refused**, not silently rewritten: ``@channel``, ``@here``,
  ``@everyone`` and Slack's ``<!channel>``/``<!here>``/``<!everyone>``/``<!subteam^…>`` would
  ping a whole channel when an offer is shown there. Telling the person keeps them in control of
  their words. Slack's link and user markup (``<https://x|label>``, ``<@U123|ana>``) is turned
  into plain words; renderers escape ``<``, ``>`` and ``&`` on top of this.
* **Limits are stated**: text over a field's limit is refused with the limit and the length,
  and nothing is cut silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.errors import UserError
from bot.i18n import N_, Translator

_BROADCAST = re.compile(
    r"<!(?:channel|here|everyone|subteam\^[^>]*)[^>]*>|(?<![\w.])@(?:channel|here|everyone)\b|<at>",
    re.IGNORECASE,
)
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)\|([^>]+)>")
_SLACK_BARE_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)>")
_SLACK_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]+))?>")
_SLACK_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+")

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "at",
        "by",
        "de",
        "del",
        "el",
        "en",
        "for",
        "from",
        "how",
        "i",
        "in",
        "into",
        "la",
        "las",
        "le",
        "les",
        "los",
        "of",
        "on",
        "or",
        "the",
        "to",
        "un",
        "una",
        "with",
        "y",
    ]
)


@dataclass(frozen=True, slots=True)
class Limit:
    """A field's name as the person knows it and its maximum length in characters."""

    label: str
    max_length: int


SKILL = Limit(N_("the skill"), 80)
DESCRIPTION = Limit(N_("the description"), 280)
AVAILABILITY = Limit(N_("your availability"), 120)
REQUEST = Limit(N_("the skill you'd like to learn"), 120)
PEER_TEXT = Limit(N_("the list"), 300)


def clean(t: Translator, text: str, limit: Limit, *, required: bool = True) -> str:
    """One line of user text, safe to show to others, within ``limit``; else :class:`UserError`."""
    if _BROADCAST.search(text):
        raise UserError(
            t._(
                "Please leave out @channel, @here and @everyone: skillshare text is shown to other "
                "people and must not ping a whole channel. Try again without them."
            )
        )
    text = _SLACK_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _SLACK_BARE_LINK.sub(r"\1", text)
    text = _SLACK_USER.sub(lambda m: m.group(2) or t._("a colleague"), text)
    text = _SLACK_CHANNEL.sub(lambda m: f"#{m.group(2)}" if m.group(2) else t._("a channel"), text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in "\n\t")
    text = _SPACES.sub(" ", text).strip()
    if required and not text:
        raise UserError(t._("Please type {field}; it can't be empty.", field=t._(limit.label)))
    if len(text) > limit.max_length:
        raise UserError(
            t._(
                "That's {count} characters; please keep {field} to {limit} characters or fewer and send it "
                "again.",
                count=len(text),
                field=t._(limit.label),
                limit=limit.max_length,
            )
        )
    return text


def normalise(text: str) -> str:
    """Unaccented, case-folded words separated by single spaces ("Programación" -> "programacion")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped))


def terms(text: str) -> list[str]:
    """The words of a query worth searching for, normalised, without duplicates or stop words."""
    seen: dict[str, None] = {}
    for word in normalise(text).split():
        if word not in STOP_WORDS:
            seen.setdefault(word, None)
    return list(seen)
