"""Cleaning text that comes from people before anything stores or shows it.

Bidirectional control characters (U+202A-U+202E embeddings and overrides, U+2066-U+2069
isolates, the U+200E/U+200F/U+061C marks) are invisible and reorder what follows them: a skill
typed as ``Excel\u202eelif.exe`` reads as ``Excelexe.file``, and an override left open runs into
the bot's own words after it. No right-to-left language needs them in a chat message (the
platforms lay out Arabic and Hebrew by themselves), so they are removed on input, in the neutral
events, before any feature sees the text.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi(text: str) -> str:
    return BIDI_CONTROLS.sub("", text) if text else text
