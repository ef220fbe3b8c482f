"""Slack subcommands: ``learnbot slack-manifest`` (the app manifest for this deployment, ready
to paste) and ``learnbot slack-link`` (link known people to Slack accounts by email now)."""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from adapters.slack.plugin import MANIFEST

PLACEHOLDER = "https://learnbot.example.org"


def manifest_for(url: str | None, *, socket_mode: bool) -> dict[str, Any]:
    """The manifest with ``url`` as the public address, or set up for Socket Mode (no URLs)."""
    manifest: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    settings = manifest["settings"]
    commands = manifest["features"]["slash_commands"]
    if socket_mode:
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        manifest["oauth_config"].pop("redirect_urls", None)
        for command in commands:
            command.pop("url", None)
        return manifest
    base = (url or PLACEHOLDER).rstrip("/")
    if not base.startswith("https://"):
        raise ValueError(f"Slack only calls HTTPS addresses; got '{base}' (or use --socket-mode)")
    settings["event_subscriptions"]["request_url"] = f"{base}/slack/events"
    settings["interactivity"]["request_url"] = f"{base}/slack/events"
    manifest["oauth_config"]["redirect_urls"] = [f"{base}/slack/oauth_redirect"]
    for command in commands:
        command["url"] = f"{base}/slack/events"
    return manifest


def cmd_slack_manifest(args: argparse.Namespace, settings: object) -> int:
    manifest = manifest_for(args.url, socket_mode=args.socket_mode)
    print(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), end="")
    return 0


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "slack-manifest",
        help="print the Slack app manifest (paste it at api.slack.com/apps -> From a manifest)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--url", help="this server's public HTTPS address, e.g. https://learnbot.example.org")
    mode.add_argument(
        "--socket-mode", action="store_true", help="no public URL: Socket Mode (SLACK_APP_TOKEN)"
    )
    parser.set_defaults(func=cmd_slack_manifest)

    link = subparsers.add_parser(
        "slack-link",
        help="link known people (e.g. from an LMS import) to their Slack accounts by email, now",
    )
    link.set_defaults(func=cmd_slack_link)


def cmd_slack_link(args: argparse.Namespace, settings: Any) -> int:
    """Link everyone Learnbot knows to their Slack account by email, now."""
    import asyncio

    from adapters.slack.directory import SlackClients
    from adapters.slack.linking import link_people
    from adapters.slack.plugin import api_url
    from bot.clock import SystemClock
    from storage.db import create_engine, ensure_reachable, session_factory
    from storage.migrate import upgrade

    if not settings.slack_bot_token:
        raise ValueError("set SLACK_BOT_TOKEN (the bot token of the workspace to link)")

    async def run() -> str:
        engine = create_engine(settings.database_url)
        try:
            await ensure_reachable(engine)
            await upgrade(engine)
            clients = SlackClients(base_url=api_url(settings), bot_token=settings.slack_bot_token)
            report = await link_people(session_factory(engine), await clients.for_team(None), SystemClock())
            return str(report)
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0
