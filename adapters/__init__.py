"""One package per chat platform; each turns platform payloads into neutral events and
renders neutral messages back. The core (``bot/``) never imports from here."""
