"""``learnbot teams package``: the Teams app package (manifest.json and two icons in a zip).

Upload the zip in Teams (Apps -> Manage your apps -> Upload an app) or in the Developer Portal.
The bot commands in the manifest come from the features' own command registrations, so the
menu Teams shows never offers a command the bot does not have.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import load_config
from bot.features import FEATURES
from bot.router import Router

MANIFEST_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.16"
MAX_COMMANDS = 10  # Teams shows at most 10 commands per scope
PREFERRED = [
    "skillshare offer",
    "skillshare list",
    "skillshare search",
    "skillshare request",
    "learning help",
    "learning courses",
    "learning days",
    "learning me",
    "learning timezone",
    "learning home",
]
SAFE_IN_PUBLIC = frozenset(
    {"learning help", "learning share", "skillshare list", "skillshare search", "skillshare offer"}
)
"""The commands offered in team channels and group chats: none shows anyone's personal data
(course status, RSVP names, one's own offers, reports); the rest are offered in the personal
scope only. Typed anyway in a channel, a personal answer still goes privately."""
ACCENT = (0x1F, 0x6F, 0x5C)
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

Pixel = Callable[[int, int], tuple[int, int, int, int]]


# -- icons -------------------------------------------------------------------------------------
def png(width: int, height: int, pixel: Pixel) -> bytes:
    """A truecolour-with-alpha PNG (the format is small enough to write by hand: a signature,
    IHDR, one zlib-compressed IDAT of filtered rows, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _in_letter(u: float, v: float) -> bool:
    """An open book, drawn in the unit square (0..1): two pages rising from the spine, each
    with three lines of text cut out."""
    if not 0.14 <= u <= 0.86:
        return False
    lift = abs(u - 0.5) * 0.3  # pages rise towards their outer edges
    top, bottom = 0.3 - lift, 0.76 - lift
    if not top <= v <= bottom or abs(u - 0.5) < 0.02:
        return False
    margin = 0.08 <= abs(u - 0.5) <= 0.3
    lines = any(top + offset <= v <= top + offset + 0.04 for offset in (0.1, 0.2, 0.3))
    return not (margin and lines)


def color_icon(size: int = 192) -> bytes:
    """The full-colour icon: a white book on the accent colour (192x192, opaque)."""

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        if _in_letter((x + 0.5) / size, (y + 0.5) / size):
            return (255, 255, 255, 255)
        return (*ACCENT, 255)

    return png(size, size, pixel)


def outline_icon(size: int = 32) -> bytes:
    """The outline icon Teams tints itself: white on transparent (32x32)."""

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        inside = _in_letter((x + 0.5) / size, (y + 0.5) / size)
        return (255, 255, 255, 255) if inside else (255, 255, 255, 0)

    return png(size, size, pixel)


# -- manifest ----------------------------------------------------------------------------------
def bot_commands(router: Router, *, public: bool = False) -> list[dict[str, str]]:
    """Up to 10 commands for the Teams command menu: the usual ones first, then the rest;
    with ``public``, only those :data:`SAFE_IN_PUBLIC` (for team and group-chat scopes)."""
    available: dict[str, str] = {}
    for command, subs in sorted(router.commands.items()):
        for name, sub in subs.items():
            title = f"{command} {name}"
            if name and not sub.managers_only and (not public or title in SAFE_IN_PUBLIC):
                available[title] = sub.help
    ordered = [title for title in PREFERRED if title in available]
    ordered += [title for title in sorted(available) if title not in ordered]
    return [{"title": title[:32], "description": available[title][:128]} for title in ordered[:MAX_COMMANDS]]


MAX_DEVELOPER_NAME = 32
MAX_SHORT_NAME = 30
MAX_FULL_NAME = 100
"""The Teams manifest schema's limits (1.16): a longer name makes the whole package invalid."""


def clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a word when one ends near the limit."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" :-,")
    return cut if len(cut) >= limit // 2 else text[:limit].rstrip()


def developer_name(bot_name: str) -> str:
    """``<bot> maintainers`` when it fits, else the bot name itself, clipped."""
    full = f"{bot_name} maintainers"
    return full if len(full) <= MAX_DEVELOPER_NAME else clip(bot_name, MAX_DEVELOPER_NAME)


def manifest(
    app_id: str, bot_name: str, router: Router, *, website: str, version: str = "1.0.0"
) -> dict[str, Any]:
    commands = bot_commands(router)
    bot_name = " ".join(bot_name.split()) or "Learnbot"
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": developer_name(bot_name),
            "websiteUrl": website,
            "privacyUrl": website,
            "termsOfUseUrl": website,
        },
        "name": {
            "short": clip(bot_name, MAX_SHORT_NAME),
            "full": clip(f"{bot_name}: learning at work", MAX_FULL_NAME),
        },
        "description": {
            "short": "Weekly picks, course reminders, learning days and skillshare."[:80],
            "full": (
                f"{bot_name} helps your office's learning manager: it shares a few talks and "
                "articles each week, reminds you privately when a mandatory course is due, "
                "announces learning days, and lets colleagues offer and request skills."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                # A learning manager sends LMS exports in the personal chat (issue 14).
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": commands},
                    {"scopes": ["team", "groupChat"], "commands": bot_commands(router, public=True)},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def build_package(app_id: str, bot_name: str, router: Router, out: Path, *, website: str) -> Path:
    if not GUID.match(app_id):
        raise ValueError(
            f"the Teams app id must be the bot's Microsoft App ID (a GUID such as "
            f"00000000-0000-0000-0000-000000000000), got '{app_id}'"
        )
    if not website.startswith("https://"):
        raise ValueError(f"--website must be an https:// URL (Teams requires it), got '{website}'")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "manifest.json", json.dumps(manifest(app_id, bot_name, router, website=website), indent=2)
        )
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return out


def feature_router() -> Router:
    router = Router()
    for feature in FEATURES:
        feature.register(router)
    return router


# -- CLI ---------------------------------------------------------------------------------------
def cmd_package(args: argparse.Namespace, settings: Any) -> int:
    app_id = args.app_id or settings.microsoft_app_id
    if not app_id:
        print(
            "learnbot: give the bot's Microsoft App ID with --app-id or MICROSOFT_APP_ID "
            "(Azure portal -> your Azure Bot -> Configuration)",
            file=sys.stderr,
        )
        return 2
    config = load_config(settings.config_path)
    out = build_package(app_id, config.bot_name, feature_router(), Path(args.out), website=args.website)
    print(f"wrote {out} (upload it in Teams: Apps -> Manage your apps -> Upload an app)")
    return 0


def add_commands(subparsers: Any) -> None:
    teams = subparsers.add_parser("teams", help="Microsoft Teams: build the app package")
    teams_sub = teams.add_subparsers(dest="teams_command", metavar="ACTION", required=True)
    package = teams_sub.add_parser("package", help="write the Teams app zip (manifest.json and icons)")
    package.add_argument("--app-id", help="the bot's Microsoft App ID (default: $MICROSOFT_APP_ID)")
    package.add_argument("--out", default="teams-app.zip", help="zip to write (default: teams-app.zip)")
    package.add_argument(
        "--website",
        default="https://github.com/learnbot/learnbot",
        help="https URL shown as the developer's website, privacy and terms pages",
    )
    package.set_defaults(func=cmd_package)
