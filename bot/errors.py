"""Errors whose message is meant for the person, not the log."""


class UserError(Exception):
    """Raise from a handler to refuse politely: the message is shown to the person and the
    event's database changes are rolled back, so bad input loses nothing and writes nothing.

    Code that knows the person raises it already translated (``UserError(ctx._("..."))``).
    Code that does not (a store function) passes a message id marked with ``N_`` and its
    ``{fields}`` as keywords; the core translates it for the person when it answers."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


class Abandoned(Exception):
    """Raised by a caller's commit hook (see :meth:`bot.core.Learnbot.handle`) when it no
    longer owns the event, e.g. its inbox lease passed to another process: the core rolls the
    event's changes back and lets this through, instead of answering "sorry"."""
