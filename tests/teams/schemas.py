"""Validators for what the bot sends to Teams (the schemas in ../shared/specs)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, Draft7Validator

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs"
if not SPECS.exists():  # a checkout outside /work/wt: the shared specs live at /work/shared/specs
    SPECS = Path("/work/shared/specs")
CARD = "application/vnd.microsoft.card.adaptive"


@cache
def activity_validator() -> Draft7Validator:
    schema = json.loads((SPECS / "botframework-activity.schema.json").read_text())
    return Draft7Validator({"$ref": "#/definitions/Activity", "definitions": schema["definitions"]})


@cache
def card_validator() -> Draft6Validator:
    schema = json.loads((SPECS / "adaptive-card-1.5.schema.json").read_text())
    schema = copy.deepcopy(schema)
    # Teams' own top-level key (the specs README says to allow it like this).
    schema["definitions"]["AdaptiveCard"]["properties"]["msteams"] = {"type": "object"}
    return Draft6Validator(schema)


def problems(activity: dict[str, Any]) -> list[str]:
    """Every schema violation in an outgoing activity and its cards ([] when valid)."""
    found = [f"activity: {e.message} at {list(e.path)}" for e in activity_validator().iter_errors(activity)]
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD:
            found += [
                f"card: {e.message} at {list(e.path)}"
                for e in card_validator().iter_errors(attachment.get("content"))
            ]
    return found
