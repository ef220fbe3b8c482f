"""Two offices, Dakar and Cox's Bazar, each with its own learning manager and channel; a second
Dakar manager and an org admin, so routing has somewhere to go for a manager's own request."""

from __future__ import annotations

from typing import Any

import pytest

DAKAR_MANAGER = "awa@example.org"
DAKAR_DEPUTY = "moussa@example.org"
COX_MANAGER = "rahim@example.org"
ORG_ADMIN = "hq@example.org"


@pytest.fixture
def config_data() -> dict[str, Any]:
    return {
        "bot_name": "Learnbot",
        "default_office": "dakar",
        "org_admins": [ORG_ADMIN],
        "offices": [
            {
                "id": "dakar",
                "name": "Dakar office",
                "aliases": ["Dakar", "SN-DKR"],
                "timezone": "Africa/Dakar",
                "learning_managers": [DAKAR_MANAGER, DAKAR_DEPUTY],
                "channels": [
                    {"key": "dakar", "name": "#dakar", "slack": "C0DAKAR", "teams": "19:dakar@thread.tacv2"}
                ],
            },
            {
                "id": "coxs-bazar",
                "name": "Cox's Bazar office",
                "aliases": ["Cox's Bazar", "BD-CXB"],
                "timezone": "Asia/Dhaka",
                "learning_managers": [COX_MANAGER],
                "channels": [
                    {"key": "cox", "name": "#cox", "slack": "C0COXBZ", "teams": "19:cox@thread.tacv2"}
                ],
            },
        ],
        "courses": [
            {"id": "ethics", "title": "Ethics and integrity", "url": "https://lms.example.org/ethics"},
        ],
        "schedules": [],
    }
