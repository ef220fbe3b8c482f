"""Languages: gettext catalogues, the translator chosen for each person, locale formatting.

Every user-facing text is an English message id in ``bot/locale/messages.pot`` (extracted by
Babel, ``make extract-messages``) with a French and a Spanish catalogue beside it. The compiled
``.mo`` files are built by ``make catalogues`` (run by ``make install``/``test``/``run``) and by
the Dockerfile; they are never committed. When a ``.mo`` is missing or older than its ``.po``
(a checkout where nobody ran make yet) the ``.po`` is compiled in memory instead, with a warning.

Nothing here is global state: the :class:`Catalogues` belong to the app, and each event or
proactive message gets a :class:`Translator` for the person it speaks to (``ctx.t``/``ctx._``).
Texts defined at import time, such as the help registered on the router, are marked with
:func:`N_` and translated when they are shown.

Language choice, first that the bot speaks: the person's own choice (``/learning language fr``),
the platform's locale (Slack ``users.info``, the Teams activity), the office's ``locale``,
English.
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

logger = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "français", "es": "español"}
"""Each language in its own name (what ``/learning language`` lists)."""
DAY_PATTERNS = {
    "en": ("EEEE d MMMM", "EEEE d MMMM y"),
    "fr": ("EEEE d MMMM", "EEEE d MMMM y"),
    "es": ("EEEE d 'de' MMMM", "EEEE d 'de' MMMM 'de' y"),
}
"""How a day is written in a sentence, without and with the year (CLDR patterns)."""


def N_(message: str) -> str:
    """Mark a text for the catalogue without translating it now (translated when shown)."""
    return message


def language_of(tag: str | None) -> str | None:
    """``fr-FR``, ``fr_CA``, ``es-419``, ``FR`` -> ``fr``/``es``; ``None`` for nothing usable."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def choose_language(candidates: Iterable[str | None], available: Sequence[str]) -> str:
    """The first candidate (own choice, platform locale, office locale) the bot speaks."""
    for candidate in candidates:
        language = language_of(candidate)
        if language is not None and language in available:
            return language
    return DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Translator:
    """Texts and formats in one language. ``_`` and ``ngettext`` format ``{name}`` fields
    after translating, so a translation may move them around."""

    language: str
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def _(self, message: str, /, **values: object) -> str:
        return self._format(self.translations.gettext(message), message, values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """``{n}`` is always available to the text."""
        chosen = self.translations.ngettext(singular, plural, n)
        return self._format(chosen, singular if n == 1 else plural, {"n": n, **values})

    def _format(self, text: str, original: str, values: dict[str, object]) -> str:
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            # A broken translation must not break the reply: say it in English instead.
            logger.warning("bad %s translation of %r", self.language, original)
            return original.format(**values)

    # -- formats ---------------------------------------------------------------------------
    def day(self, value: date, today: date | None = None) -> str:
        """``Friday 4 December`` / ``vendredi 4 décembre`` / ``viernes 4 de diciembre``; the
        year only when it is not this year's (``today`` given)."""
        with_year = today is not None and value.year != today.year
        patterns = DAY_PATTERNS.get(self.language)
        if patterns is None:
            return format_date(value, "full" if with_year else "long", locale=self.locale)
        return format_date(value, patterns[with_year], locale=self.locale)

    def date(self, value: date, format: str = "medium") -> str:
        return format_date(value, format, locale=self.locale)

    def time(self, value: time | datetime) -> str:
        """``14:30``: the 24-hour clock in every language (offices in many time zones and
        countries read it the same way; ``2:30 PM`` is ambiguous to many of them)."""
        return format_time(value, "HH:mm", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.locale)

    def list(self, items: Sequence[str]) -> str:
        """``a, b and c`` / ``a, b et c`` / ``a, b y c``."""
        return format_list(list(items), locale=self.locale) if items else ""


ENGLISH = Translator(DEFAULT_LANGUAGE)
"""English needs no catalogue: the message ids are the English texts."""


class Catalogues:
    """The languages the bot speaks, loaded once per app from ``bot/locale``."""

    def __init__(self, directory: Path = LOCALE_DIR) -> None:
        self._translators: dict[str, Translator] = {DEFAULT_LANGUAGE: ENGLISH}
        for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po.parent.parent.name
            try:
                Locale.parse(language)
            except (UnknownLocaleError, ValueError):
                logger.warning("ignoring catalogue for unknown language %r", language)
                continue
            self._translators[language] = Translator(language, _load(po))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._translators))

    def translator(self, language: str | None) -> Translator:
        return self._translators.get(language_of(language) or "", ENGLISH)

    def choose(self, *candidates: str | None) -> Translator:
        """The translator for the first candidate the bot speaks (else English)."""
        return self._translators[choose_language(candidates, self.languages)]


def _load(po: Path) -> gettext.NullTranslations:
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    logger.warning("%s is missing or older than its .po; compiling it in memory (run `make catalogues`)", mo)
    with po.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
