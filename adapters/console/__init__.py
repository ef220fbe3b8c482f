"""A terminal chat that talks to the same core, for trying Learnbot with no credentials."""
