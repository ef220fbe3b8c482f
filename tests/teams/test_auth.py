"""Bot Framework authentication on /api/messages.

With an app id, every request needs a JWT signed by a key from the Bot Framework's OpenID
metadata. Here the metadata is served locally (botbuilder reads it with a blocking ``requests``
call, so it runs in a thread) and the test signs its own tokens with a fresh RSA key."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from botframework.connector.auth import ServiceClientCredentialsFactory
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from msrest.authentication import BasicTokenAuthentication
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams.plugin import BotAuthConfig, configured
from bot.clock import ManualClock
from bot.config import AppConfig
from learnbot.settings import Settings
from tests.teams.conftest import teams_app
from tests.teams.fake_connector import FakeConnector
from tests.teams.world import TeamsServer, TeamsWorld

APP_ID = "00000000-0000-0000-0000-00000000a11d"
ISSUER = "https://api.botframework.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def openid_url() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    jwk.update(kid="test-key", use="sig", endorsements=["msteams"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            port = self.server.server_address[1]
            if self.path.endswith("openid-configuration"):
                body: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": f"http://127.0.0.1:{port}/keys"}
            else:
                body = {"keys": [jwk]}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/openid-configuration"
    server.shutdown()


class StaticCredentials(ServiceClientCredentialsFactory):
    """Outgoing calls with a fixed token (no Azure AD on the test machine)."""

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> BasicTokenAuthentication:
        return BasicTokenAuthentication({"access_token": "outgoing-test-token"})


@pytest.fixture
async def secured(
    config: AppConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    connector: FakeConnector,
    openid_url: str,
) -> AsyncIterator[TeamsWorld]:
    auth = BotAuthConfig(
        APP_ID=APP_ID,
        APP_PASSWORD="not-used",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=openid_url,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=ISSUER,
    )
    server = TeamsServer(teams_app(config, sessions, clock), auth, credentials_factory=StaticCredentials())
    await server.start()
    world = TeamsWorld(server.teams.bot.app, connector, server)
    yield world
    await world.close()
    await server.stop()


def token(service_url: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 10, "exp": now + 600}
    claims.update(overrides)
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "test-key"})


async def status_for(world: TeamsWorld, headers: dict[str, str]) -> int:
    activity = world.person("ana@example.org").activity("message", text="learning help")
    async with world.http.post(world.server.url, json=activity, headers=headers) as response:
        return response.status


async def test_missing_or_garbage_tokens_get_401(secured: TeamsWorld) -> None:
    assert await status_for(secured, {}) == 401
    assert await status_for(secured, {"Authorization": "Bearer not-a-jwt"}) == 401
    assert await status_for(secured, {"Authorization": "garbage"}) == 401
    assert secured.connector.activities == []


async def test_tokens_for_another_app_or_expired_get_401(secured: TeamsWorld) -> None:
    url = secured.connector.url
    wrong_app = token(url, aud="someone-else")
    expired = token(url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200)
    wrong_issuer = token(url, iss="https://evil.example")
    other_key = jwt.encode(
        {"iss": ISSUER, "aud": APP_ID, "serviceurl": url, "exp": int(time.time()) + 600},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "test-key"},
    )
    for bad in (wrong_app, expired, wrong_issuer, other_key):
        assert await status_for(secured, {"Authorization": f"Bearer {bad}"}) == 401
    assert secured.connector.activities == []


async def test_a_valid_token_is_accepted_and_the_reply_is_authenticated(secured: TeamsWorld) -> None:
    good = token(secured.connector.url)
    assert await status_for(secured, {"Authorization": f"Bearer {good}"}) in (200, 201)
    assert secured.connector.activities, "the bot did not reply"
    assert secured.connector.auth_headers[-1] == "Bearer outgoing-test-token"


def test_configured_by_app_id_or_local_flag() -> None:
    assert not configured(Settings())
    assert configured(Settings(microsoft_app_id=APP_ID))
    assert configured(Settings.from_env({"LEARNBOT_TEAMS": "1"}))
