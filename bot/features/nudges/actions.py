"""Button action ids of the nudges feature: one constant each, used by the texts that send
the buttons and by the registration table that routes them (a typo is then an import error,
not "That button no longer does anything" at run time)."""

from typing import Final

DONE: Final = "nudge.done"
LATER: Final = "nudge.later"
HELP: Final = "nudge.help"
CONFIRM: Final = "nudge.confirm"
REJECT: Final = "nudge.reject"
RESUME: Final = "nudge.resume"
