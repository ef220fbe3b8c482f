"""The composition root: command-line interface, HTTP server and wiring of core, storage,
scheduler and the platform adapters."""
