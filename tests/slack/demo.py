"""A tiny feature for the Slack adapter's tests: buttons, a form and user text to escape."""

from __future__ import annotations

import json

from bot.messages import Button, Buttons, Form, FormField, Header, Message, Text, plain
from bot.router import Context, Reply, Router


def register(router: Router) -> None:
    @router.command("learning", "demo", help="try buttons and a form")
    async def _demo(ctx: Context, args: str) -> Reply:
        return Message(
            text="Pick one",
            blocks=[
                Text(f"Pick one, {ctx.person.name}. You typed: {args}"),
                Buttons(
                    [
                        Button("Yes please", "demo.pick", "yes", style="primary"),
                        Button("No thanks", "demo.pick", "no"),
                        Button("Use a form instead", "demo.form"),
                        Button("Read the docs", "demo.link", url="https://example.org/docs"),
                    ]
                ),
            ],
        )

    @router.action("demo.pick")
    async def _pick(ctx: Context, value: str) -> Reply:
        return plain(f"You picked {value}")

    @router.action("demo.form")
    async def _form(ctx: Context, value: str) -> Reply:
        return Message(
            text="Offer a skill",
            blocks=[
                Header("Offer a skill"),
                Form(
                    title="Offer a skill",
                    submit_action_id="demo.submit",
                    fields=[
                        FormField("skill", "What would you like to teach?"),
                        FormField("level", "Level", kind="choice", options=["beginner", "expert"]),
                        FormField("notes", "Anything else?", kind="long_text", optional=True),
                    ],
                ),
            ],
        )

    @router.action("demo.submit")
    async def _submit(ctx: Context, value: str) -> Reply:
        data = json.loads(value)
        return plain(f"Saved your offer: {data['skill']} ({data['level']})")
