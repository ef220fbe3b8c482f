"""Learning days' button action ids, named once: a typo is an import error, not a dead button."""

CONFIRM = "day.confirm"
"""'Schedule it' on the draft: resumes the scheduling dialog (see :mod:`.scheduling`)."""
RSVP = "day.rsvp"
CALENDAR = "day.calendar"
"""A link button to the .ics file; Slack reports the click too."""
