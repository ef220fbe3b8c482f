"""Render neutral messages as terminal text."""

from __future__ import annotations

import textwrap

from bot.messages import Buttons, Divider, Fields, Form, Header, LinkCard, Message, Note, Text


def _buttons(block: Buttons, buttons_out: list[tuple[str, str]] | None) -> str:
    labels = []
    for button in block.buttons:
        if button.url:
            labels.append(f"[{button.label}: {button.url}]")
            continue
        if buttons_out is None:
            labels.append(f"[{button.label}]")
        else:
            buttons_out.append((button.action_id, button.value))
            labels.append(f"[!{len(buttons_out)} {button.label}]")
    return "  ".join(labels)


def render(message: Message, buttons_out: list[tuple[str, str]] | None = None) -> str:
    """Text for the terminal. Buttons are numbered; each is appended to ``buttons_out`` as
    ``(action_id, value)`` so ``!N`` can press it."""
    if not message.blocks:
        return message.text
    lines: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header):
            lines.append(f"== {block.text} ==")
        elif isinstance(block, Text):
            lines.append(block.text)
        elif isinstance(block, LinkCard):
            source = f" ({block.source})" if block.source else ""
            lines.append(f"* {block.title}{source}\n  {block.url}")
            if block.description:
                lines.append(textwrap.indent(textwrap.fill(block.description, 88), "  "))
        elif isinstance(block, Fields):
            lines.extend(f"  {label}: {value}" for label, value in block.items)
        elif isinstance(block, Buttons):
            lines.append(_buttons(block, buttons_out))
        elif isinstance(block, Divider):
            lines.append("-" * 40)
        elif isinstance(block, Note):
            lines.append(f"  ({block.text})")
        elif isinstance(block, Form):
            names = ", ".join(f.label for f in block.fields)
            lines.append(f"[form: {block.title} ({names}); {block.step_by_step}]")
    for name in message.attachments:
        lines.append(f"  [attachment: {name}]")
    return "\n".join(lines)
