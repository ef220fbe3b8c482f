"""Settings and secrets from the environment, a ``.env`` file and secrets files (never from
app.yaml).

pydantic-settings reads them (``EnvSettings``): the process environment first, then a ``.env``
file in the working directory (``LEARNBOT_ENV_FILE`` names another), then one file per setting
in a secrets directory (``LEARNBOT_SECRETS_DIR``, default ``/run/secrets`` when it exists:
Docker and Kubernetes secrets, e.g. ``/run/secrets/SLACK_BOT_TOKEN``). Empty values count as
unset. The rest of the program sees the small frozen ``Settings`` dataclass, so tests and
benchmarks build one directly (``Settings(slack_bot_token=...)``) without touching the
environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_DATABASE_URL

LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"
DEFAULT_SECRETS_DIR = Path("/run/secrets")


def _env(name: str, default: object = None) -> object:
    """A field read from the environment variable ``name`` (or its field name, for tests)."""
    return Field(default, validation_alias=AliasChoices(name, name.lower()))


class EnvSettings(BaseSettings):
    """The environment variables Learnbot reads, with their types (a bad value is reported by
    name: ``PORT: Input should be a valid integer``)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        str_strip_whitespace=True,
        populate_by_name=True,
    )

    database_url: str = _env("DATABASE_URL", DEFAULT_DATABASE_URL)  # type: ignore[assignment]
    config_path: str = _env("LEARNBOT_CONFIG", "app.yaml")  # type: ignore[assignment]
    host: str | None = _env("HOST")  # type: ignore[assignment]
    port: int = Field(3000, ge=1, le=65535, validation_alias=AliasChoices("PORT", "port"))
    slack_bot_token: str | None = _env("SLACK_BOT_TOKEN")  # type: ignore[assignment]
    slack_signing_secret: str | None = _env("SLACK_SIGNING_SECRET")  # type: ignore[assignment]
    slack_app_token: str | None = _env("SLACK_APP_TOKEN")  # type: ignore[assignment]
    slack_api_url: str | None = _env("SLACK_API_URL")  # type: ignore[assignment]
    slack_client_id: str | None = _env("SLACK_CLIENT_ID")  # type: ignore[assignment]
    slack_client_secret: str | None = _env("SLACK_CLIENT_SECRET")  # type: ignore[assignment]
    microsoft_app_id: str | None = _env("MICROSOFT_APP_ID")  # type: ignore[assignment]
    microsoft_app_password: str | None = _env("MICROSOFT_APP_PASSWORD")  # type: ignore[assignment]
    microsoft_app_tenant_id: str | None = _env("MICROSOFT_APP_TENANT_ID")  # type: ignore[assignment]
    microsoft_app_type: str | None = _env("MICROSOFT_APP_TYPE")  # type: ignore[assignment]
    teams_enabled: bool = _env("LEARNBOT_TEAMS", False)  # type: ignore[assignment]
    public_url: str | None = _env("LEARNBOT_PUBLIC_URL")  # type: ignore[assignment]
    redis_url: str | None = _env("REDIS_URL")  # type: ignore[assignment]
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level")
    )
    log_format: Literal["text", "json"] = Field(
        "text", validation_alias=AliasChoices("LOG_FORMAT", "log_format")
    )
    log_libraries: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "WARNING", validation_alias=AliasChoices("LOG_LIBRARIES", "log_libraries")
    )

    @field_validator("log_level", "log_libraries", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        """``LOG_LEVEL=debug`` and ``LOG_FORMAT=JSON`` mean what they say."""
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    config_path: str = "app.yaml"
    host: str | None = None
    """``HOST``; unset means 0.0.0.0, or loopback when Teams runs without authentication."""
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
    log_level: str = "INFO"
    log_format: str = "text"
    log_libraries: str = "WARNING"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from the process environment, ``.env`` and secrets files; or, when ``env``
        is given, from that mapping alone (tests)."""
        try:
            if env is None:
                loaded = EnvSettings(
                    _env_file=os.environ.get("LEARNBOT_ENV_FILE", ".env"),
                    _secrets_dir=_secrets_dir(),
                )
            else:
                given = {key: value for key, value in env.items() if value.strip()}
                loaded = EnvSettings.model_validate(given)
        except ValidationError as exc:
            raise ValueError(_explain(exc)) from None
        known = {f.name for f in fields(cls)}  # a setting another part reads may not be here yet
        return cls(**{name: value for name, value in loaded.model_dump().items() if name in known})

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
    def teams_without_auth(self) -> bool:
        return self.teams_configured and not self.microsoft_app_id

    @property
    def any_platform(self) -> bool:
        return self.slack_configured or self.teams_configured

    @property
    def bind_host(self) -> str:
        """Where ``serve`` listens: ``HOST`` when set; otherwise every interface, except when
        Teams runs without authentication: then loopback only, so an open endpoint that calls
        back whatever ``serviceUrl`` it is given is not reachable from the network."""
        if self.host:
            return self.host
        return LOOPBACK if self.teams_without_auth else ALL_INTERFACES


def _secrets_dir() -> str | None:
    named = os.environ.get("LEARNBOT_SECRETS_DIR")
    if named:
        return named
    return str(DEFAULT_SECRETS_DIR) if DEFAULT_SECRETS_DIR.is_dir() else None


def _explain(exc: ValidationError) -> str:
    """One line per bad setting, named by its environment variable."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        lines.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
    return "bad setting: " + "; ".join(lines)
