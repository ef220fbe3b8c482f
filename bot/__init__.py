"""Learnbot's platform-neutral core.

Nothing in this package may import a chat SDK or an adapter (an import-linter contract in
pyproject.toml enforces it), so the same behaviour serves Slack, Teams and the console.
"""
