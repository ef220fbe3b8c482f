"""The Teams activity's ``locale`` picks the language, after the person's own choice and
before the office's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.teams.world import TeamsDriver, TeamsWorld


async def test_teams_activity_locale_is_followed(teams: TeamsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    ana = teams.person("ana@example.org", name="Ana")
    plain_activity = TeamsDriver.activity

    def in_spanish(self: TeamsDriver, kind: str, **fields: Any) -> dict[str, Any]:
        return {**plain_activity(self, kind, **fields), "locale": "es-CO"}

    monkeypatch.setattr(TeamsDriver, "activity", in_spanish)
    await ana.send("blablabla")
    await ana.expect_reply("Lo siento, no lo he entendido")
