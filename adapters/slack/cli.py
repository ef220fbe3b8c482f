"""Slack subcommands: ``learnbot slack-manifest`` (the app manifest for this deployment, ready
to paste) and ``learnbot slack-link`` (link known people to Slack accounts by email now)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import yaml

from adapters.slack.plugin import MANIFEST
from bot.router import Router, Subcommand

PLACEHOLDER = "https://learnbot.example.org"
MAX_NAME = 35
"""Slack's limit for ``display_information.name`` (the bot user's display name allows 80)."""
MAX_USAGE_HINT = 1000


def usage_hint(subcommands: Mapping[str, Subcommand]) -> str:
    """``help | offer [skill] | search <words> | ...``: the subcommands the router really has
    (managers' ones left out: everyone sees the hint), within Slack's 1000 characters."""
    parts = ["help"]  # the router answers help on every command
    parts += [
        f"{sub.name} {sub.usage}".strip()
        for sub in subcommands.values()
        if sub.name and sub.name != "help" and not sub.managers_only
    ]
    hint = ""
    for part in parts:
        candidate = f"{hint} | {part}" if hint else part
        if len(candidate) > MAX_USAGE_HINT:
            break
        hint = candidate
    return hint


def manifest_for(
    url: str | None,
    *,
    socket_mode: bool,
    bot_name: str = "Learnbot",
    commands: Mapping[str, Mapping[str, Subcommand]] | None = None,
) -> dict[str, Any]:
    """The manifest with ``url`` as the public address, or set up for Socket Mode (no URLs);
    named ``bot_name`` (app.yaml), with usage hints from the registered ``commands``."""
    manifest: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    _name(manifest, bot_name)
    settings = manifest["settings"]
    commands_in_manifest = manifest["features"]["slash_commands"]
    for command in commands_in_manifest:
        subs = (commands or {}).get(command["command"].lstrip("/"))
        if subs:
            command["usage_hint"] = usage_hint(subs)
    if socket_mode:
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        manifest["oauth_config"].pop("redirect_urls", None)
        for command in commands_in_manifest:
            command.pop("url", None)
        return manifest
    base = (url or PLACEHOLDER).rstrip("/")
    if not base.startswith("https://"):
        raise ValueError(f"Slack only calls HTTPS addresses; got '{base}' (or use --socket-mode)")
    settings["event_subscriptions"]["request_url"] = f"{base}/slack/events"
    settings["interactivity"]["request_url"] = f"{base}/slack/events"
    manifest["oauth_config"]["redirect_urls"] = [f"{base}/slack/oauth_redirect"]
    for command in commands_in_manifest:
        command["url"] = f"{base}/slack/events"
    return manifest


def _name(manifest: dict[str, Any], bot_name: str) -> None:
    """Put ``bot_name`` wherever the manifest names the app (clipped to Slack's limits)."""
    name = bot_name.strip() or "Learnbot"
    info = manifest["display_information"]
    info["name"] = name[:MAX_NAME].rstrip()
    info["long_description"] = info["long_description"].replace("Learnbot", name)
    manifest["features"]["bot_user"]["display_name"] = name[:80].rstrip()


def feature_router() -> Router:
    """Every feature's commands, registered as the running bot registers them."""
    from bot.features import FEATURES

    router = Router()
    for feature in FEATURES:
        feature.register(router)
    return router


def cmd_slack_manifest(args: argparse.Namespace, settings: Any) -> int:
    from bot.config import load_config

    config = load_config(settings.config_path)
    manifest = manifest_for(
        args.url,
        socket_mode=args.socket_mode,
        bot_name=config.bot_name,
        commands=feature_router().commands,
    )
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
