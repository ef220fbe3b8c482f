"""Agenda invites' button action ids (the first button, ``skillshare.actions.INVITE``, is shown
by skillshare and handled here)."""

PICK_DAY = "skillshare.invite_day"
