"""``learnbot teams-link``: read the rosters and channels of every team Learnbot is installed in
now, and link their members to the people Learnbot knows (by email or UPN)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def add_commands(subparsers: Any) -> None:
    link = subparsers.add_parser(
        "teams-link",
        help="read the members and channels of every team Learnbot is installed in, and link them, now",
    )
    link.set_defaults(func=cmd_teams_link)


def cmd_teams_link(args: argparse.Namespace, settings: Any) -> int:
    from adapters.teams.plugin import BotAuthConfig, build
    from adapters.teams.roster import link_stored_rosters
    from bot.config import load_config
    from bot.core import Learnbot
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade

    if not settings.teams_configured:
        raise ValueError("set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (the bot's credentials)")

    async def run() -> list[str]:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            config = load_config(settings.config_path)
            app = Learnbot(config, session_factory(engine), platforms=("teams",), features=[])
            teams = build(app, BotAuthConfig.from_settings(settings))
            try:
                reports = await teams.roster.sync_all()
                linked, unmatched = await link_stored_rosters(app.sessions, app.clock.now)
            finally:
                await teams.sender.close()
        finally:
            await engine.dispose()
        if not reports:
            return [
                "Learnbot is installed in no team yet: add the app to a team in Teams "
                "(its members and channels are read when it is installed)"
            ]
        lines = [str(report) for report in reports]
        failed = [report for report in reports if report.error]
        lines.append(f"{linked} more person(s) linked; {unmatched} member(s) match nobody Learnbot knows")
        if failed:
            lines.append("teams that could not be read keep their last roster; run this again later")
        return lines

    print("\n".join(asyncio.run(run())))
    return 0
