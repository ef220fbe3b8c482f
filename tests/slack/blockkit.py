"""Checks every outgoing Slack block: valid against the Block Kit JSON schema (each block as a
``KnownBlock``) and a faithful round trip through slack_sdk's block models."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from slack_sdk.models.blocks import Block

SCHEMA = Path("/work/shared/specs/slack-block-kit.schema.json")
SCHEMA_COPY = Path(__file__).parent / "slack-block-kit.schema.json"


@cache
def _validator() -> jsonschema.protocols.Validator:
    path = SCHEMA if SCHEMA.exists() else SCHEMA_COPY
    schema = json.loads(path.read_text())
    known = {"$ref": "#/definitions/KnownBlock", "definitions": schema["definitions"]}
    cls = jsonschema.validators.validator_for(schema)
    return cls(known)


def check_block(block: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(block), key=lambda e: list(e.path))
    assert not errors, f"invalid block {block}: {[e.message for e in errors][:3]}"
    model = Block.parse(block)
    assert model is not None, f"slack_sdk does not know {block}"
    model.validate_json()
    assert model.to_dict() == block, f"round trip changed {block} into {model.to_dict()}"


def check_blocks(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        check_block(block)


def check_calls(calls: list[Any]) -> int:
    """Check the blocks of every recorded call that carried blocks or a view; count them."""
    checked = 0
    for call in calls:
        blocks = list(call.args.get("blocks") or [])
        view = call.args.get("view")
        if isinstance(view, dict):
            blocks += view.get("blocks", [])
        check_blocks(blocks)
        checked += len(blocks)
    return checked
