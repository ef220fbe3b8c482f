"""``/learning language``: show or choose the language Learnbot speaks to you."""

from __future__ import annotations

from bot.errors import UserError
from bot.i18n import LANGUAGE_NAMES, N_, language_of
from bot.messages import plain
from bot.router import Context, Reply, Router

ALIASES = {
    "english": "en",
    "anglais": "en",
    "inglés": "en",
    "ingles": "en",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "francés": "fr",
    "frances": "fr",
    "spanish": "es",
    "espagnol": "es",
    "español": "es",
    "espanol": "es",
}
AUTOMATIC = {"auto", "automatic", "automatique", "automático", "automatico", "reset", "default"}


def _choices(ctx: Context) -> str:
    return ", ".join(f"`{code}` ({LANGUAGE_NAMES.get(code, code)})" for code in ctx.app.i18n.languages)


async def language(ctx: Context, args: str) -> Reply:
    """Without an argument: the language in use and why; with one: the person's own choice."""
    wanted = args.strip().lower()
    person = ctx.person
    if not wanted:
        current = LANGUAGE_NAMES.get(ctx.t.language, ctx.t.language)
        if person.language:
            return plain(
                ctx._(
                    "I speak {language} with you, as you chose. Choices: {choices}, or `auto`.",
                    language=current,
                    choices=_choices(ctx),
                )
            )
        return plain(ctx._("I speak {language} with you (from your chat app or your office). "
                           "To choose: `/learning language fr`. Choices: {choices}.",
                           language=current, choices=_choices(ctx)))  # fmt: skip
    if wanted in AUTOMATIC:
        person.language = None
        person.updated_at = ctx.now
        return plain(ctx._("Done: I'll follow your chat app's language, or your office's."))
    code = ALIASES.get(wanted) or language_of(wanted)
    if code is None or code not in ctx.app.i18n.languages:
        raise UserError(ctx._("I don't speak '{language}' yet. Choices: {choices}.", language=args.strip(),
                              choices=_choices(ctx)))  # fmt: skip
    person.language = code
    person.updated_at = ctx.now
    return plain(ctx._("Done: I'll speak {language} with you from now on.", language=LANGUAGE_NAMES[code]))


def register(router: Router) -> None:
    router.command("learning", "language", usage="[en|fr|es|auto]", help=N_("the language I speak with you"))(
        language
    )
