"""Settings and secrets from environment variables (never from app.yaml)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from storage.db import DEFAULT_DATABASE_URL


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    config_path: str = "app.yaml"
    host: str = "0.0.0.0"
    port: int = 3000
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: str | None = None
    teams_enabled: bool = False
    public_url: str | None = None
    redis_url: str | None = None
    """Share rate limits through Redis instead of the database (``REDIS_URL``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        port = get("PORT") or "3000"
        if not port.isdigit():
            raise ValueError(f"PORT must be a number, got '{port}'")
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            config_path=get("LEARNBOT_CONFIG") or "app.yaml",
            host=get("HOST") or "0.0.0.0",
            port=int(port),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=get("SLACK_API_URL"),
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
            microsoft_app_id=get("MICROSOFT_APP_ID"),
            microsoft_app_password=get("MICROSOFT_APP_PASSWORD"),
            microsoft_app_tenant_id=get("MICROSOFT_APP_TENANT_ID"),
            microsoft_app_type=get("MICROSOFT_APP_TYPE"),
            teams_enabled=(get("LEARNBOT_TEAMS") or "").lower() in {"1", "true", "yes"},
            public_url=get("LEARNBOT_PUBLIC_URL"),
            redis_url=get("REDIS_URL"),
        )

    @property
    def slack_configured(self) -> bool:
        has_single = bool(self.slack_bot_token and self.slack_signing_secret)
        has_oauth = bool(self.slack_client_id and self.slack_client_secret and self.slack_signing_secret)
        return has_single or has_oauth

    @property
    def teams_configured(self) -> bool:
        """Teams runs when an app id is set, or when asked to run without auth for local
        development with the Bot Framework Emulator (``LEARNBOT_TEAMS=1``)."""
        return bool(self.microsoft_app_id) or self.teams_enabled

    @property
    def any_platform(self) -> bool:
        return self.slack_configured or self.teams_configured
