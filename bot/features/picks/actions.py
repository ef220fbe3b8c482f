"""Weekly picks' button action ids, named once: a typo is an import error, not a dead button."""

USEFUL = "picks.useful"
APPROVE = "picks.approve"
REJECT = "picks.reject"
