"""The general help, rendered from the router's registry (``router.commands`` and
``router.command_help``), so the core shows whatever the composition root registered without
importing any feature. Help texts are registered as message ids (``N_``) and translated here,
into the reader's language; command names stay English (they are fixed in the manifests)."""

from __future__ import annotations

from bot.i18n import Translator
from bot.messages import Block, Message, Note, Text
from bot.router import Router


def help_text(
    t: Translator, router: Router, bot_name: str, *, command: str | None, note: str, manager: bool
) -> Message:
    """The list of commands (all, or one command's subcommands); manager-only ones for managers."""
    lines: list[str] = []
    names = [command] if command else sorted(router.commands)
    for name in names:
        if not command and name in router.command_help:
            lines.append(f"*/{name}* — {t._(router.command_help[name])}")
        for sub in router.commands.get(name, {}).values():
            if sub.managers_only and not manager:
                continue
            usage = f" {sub.usage}" if sub.usage else ""
            label = f"/{name} {sub.name}".rstrip()
            lines.append(f"• `{label}{usage}` — {t._(sub.help)}")
    if command:
        header = t._("Here's what I can do in /{command}:", command=command)
    else:
        header = t._("Hi, I'm {bot}. Here's what I can do:", bot=bot_name)
    body = "\n".join(lines)
    text = f"{note}\n{header}\n{body}" if note else f"{header}\n{body}"
    blocks: list[Block] = []
    if note:
        blocks.append(Text(note))
    blocks += [
        Text(header),
        Text(body or t._("(nothing yet)")),
        Note(
            t._(
                "In a direct message you can type commands without the slash, e.g. `learning help`. "
                "Answer a reminder in your own words: `done yesterday`, `remind me on Friday`, "
                "`I can't log in`, `I'm on leave`, `not mine`."
            )
        ),
    ]
    return Message(text=text, blocks=blocks)
