"""Errors whose message is meant for the person, not the log."""


class UserError(Exception):
    """Raise from a handler to refuse politely: the message is shown to the person and the
    event's database changes are rolled back, so bad input loses nothing and writes nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
