"""Slack Web API clients: every one waits out a 429 (except the outbox deliverer's, which
pauses the workspace instead), and Bolt is built without its token warning."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.slack.directory import SlackClients
from adapters.slack.linking import slack_emails
from adapters.slack.plugin import build
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.core import Learnbot
from bot.features import FEATURES
from learnbot.settings import Settings
from tests.slack.fake import FakeSlack


async def test_a_directory_sync_survives_a_429_from_users_list() -> None:
    fake = await FakeSlack().start()
    try:
        fake.add_user("ana@example.org", "Ana")
        fake.fail("users.list", "ratelimited")  # 429 with Retry-After: 1
        client = await SlackClients(base_url=fake.api_url, bot_token="xoxb-test").for_team(None)
        emails = await slack_emails(client)
        assert "ana@example.org" in emails
        assert len(fake.called("users.list")) == 1  # the retried call, after the 429

        fake.fail("users.list", "ratelimited")
        sender = await SlackClients(
            base_url=fake.api_url, bot_token="xoxb", retry_rate_limits=False
        ).for_team(None)
        with pytest.raises(SlackApiError):  # the deliverer's clients leave 429s to the outbox
            await sender.users_list()
    finally:
        await fake.stop()


async def test_bolt_and_every_client_get_the_retry_handler_and_no_token_warning(
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")  # Bolt reads it itself
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    caplog.set_level(logging.WARNING)
    settings = Settings(
        slack_bot_token="xoxb-from-env", slack_signing_secret="s", slack_api_url="http://127.0.0.1:9/api/"
    )
    parts = build(Learnbot(config, sessions, clock=clock, platforms=("slack",), features=FEATURES), settings)
    try:
        assert "will be unused" not in caplog.text
        handlers = [type(h).__name__ for h in parts.adapter.bolt.client.retry_handlers]
        assert "AsyncRateLimitErrorRetryHandler" in handlers
        assert parts.adapter.bolt.client.base_url == "http://127.0.0.1:9/api/"
    finally:
        await parts.adapter.close()
