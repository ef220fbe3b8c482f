"""The Teams app package: manifest, icons, zip, and the CLI command."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from adapters.teams.package import bot_commands, build_package, feature_router
from learnbot.cli import main

APP_ID = "11111111-2222-3333-4444-555555555555"


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw pixels of a PNG, checking the signature and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks[kind] = body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 6)
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert len(pixels) == height * (1 + 4 * width)
    assert b"IEND" in chunks
    return width, height, pixels


def test_package_holds_a_manifest_and_valid_icons(tmp_path: Path) -> None:
    out = build_package(APP_ID, "Learnbot", feature_router(), tmp_path / "app.zip", website="https://e.org")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = read_png(archive.read("color.png"))
        outline = read_png(archive.read("outline.png"))
    assert color[:2] == (192, 192)
    assert outline[:2] == (32, 32)
    # The outline icon is white on transparent, as Teams requires.
    alphas = {outline[2][row * 129 + 1 + col * 4 + 3] for row in range(32) for col in range(32)}
    assert alphas == {0, 255}
    assert manifest["id"] == APP_ID == manifest["bots"][0]["botId"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert "learning help" in titles and "skillshare offer" in titles


def test_commands_are_the_registered_ones_at_most_ten() -> None:
    router = feature_router()
    commands = bot_commands(router)
    assert 0 < len(commands) <= 10
    for command in commands:
        name, sub = command["title"].split(" ", 1)
        assert sub in router.commands[name]
        assert len(command["title"]) <= 32 and len(command["description"]) <= 128


def test_cli_writes_the_zip_and_refuses_bad_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "teams.zip"
    assert main(["teams", "package", "--app-id", APP_ID, "--out", str(out)]) == 0
    assert zipfile.is_zipfile(out)
    assert main(["teams", "package", "--app-id", "not-a-guid", "--out", str(out)]) == 2
    assert "must be the bot's Microsoft App ID" in capsys.readouterr().err


@pytest.mark.parametrize(
    "bot_name",
    [
        "Learnbot",
        "Aprendizaje y Desarrollo",  # 24 characters: "... maintainers" went over 32
        "Oficina Regional de Aprendizaje y Desarrollo Profesional Continuo del Personal",
        "Ünïcödé Lërnbøt 🎓 für alle Büros",
    ],
)
def test_the_package_is_valid_for_long_bot_names(tmp_path: Path, bot_name: str) -> None:
    from jsonschema import Draft4Validator

    from tests.teams.schemas import SPECS

    out = build_package(APP_ID, bot_name, feature_router(), tmp_path / "app.zip", website="https://e.org")
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    schema = json.loads((SPECS / "teams-app-manifest-1.16.schema.json").read_text())
    errors = [f"{e.message} at {list(e.path)}" for e in Draft4Validator(schema).iter_errors(manifest)]
    assert errors == []
    assert len(manifest["developer"]["name"]) <= 32
    assert manifest["name"]["short"] and bot_name.startswith(manifest["name"]["short"][:8])
