"""A tiny feature for the Teams tests: a card with buttons and a form, and what presses do."""

from __future__ import annotations

import json

from bot.messages import Button, Buttons, Form, FormField, Header, Message, Text, plain
from bot.router import Context, Reply, Router


def register(router: Router) -> None:
    router.describe("demo", "buttons and forms for the Teams tests")

    @router.command("demo", "card", help="a card with buttons")
    async def _card(ctx: Context, args: str) -> Reply:
        return Message(
            text="Pick a fruit",
            blocks=[
                Header("Pick a fruit"),
                Text(f"You said: {args}", markdown=False),
                Buttons(
                    [
                        Button("Apple", "demo.pick", "apple", style="primary"),
                        Button("Cherry", "demo.pick", "cherry", style="danger"),
                        Button("Website", "demo.site", url="https://example.org/fruit"),
                    ]
                ),
            ],
        )

    @router.command("demo", "form", help="a form")
    async def _form(ctx: Context, args: str) -> Reply:
        return Message(
            text="Tell me about a skill",
            blocks=[
                Form(
                    title="Offer a skill",
                    submit_action_id="demo.form",
                    fields=[
                        FormField("skill", "Skill", initial="Excel"),
                        FormField(
                            "level", "Level", kind="choice", options=["basic", "expert"], initial="basic"
                        ),
                        FormField("notes", "Notes", kind="long_text", optional=True),
                    ],
                )
            ],
        )

    @router.command("demo", "private", help="a reply that goes to a DM")
    async def _private(ctx: Context, args: str) -> Reply:
        return plain("This is just for you.", dm=True)

    @router.action("demo.pick")
    async def _pick(ctx: Context, value: str) -> Reply:
        return plain(f"You picked {value}.")

    @router.action("demo.done")
    async def _done(ctx: Context, value: str) -> Reply:
        return plain(f"Marked {value} done.", replaces_pressed=True)

    @router.action("demo.form")
    async def _submitted(ctx: Context, value: str) -> Reply:
        data = json.loads(value)
        return plain(f"Thanks: {data['skill']} ({data['level']}).")
