"""Text from the web and from people: HTML read by a real parser, pages without a charset,
ISO 8601 durations, the checked address pinned for the request, bidi controls removed."""

from __future__ import annotations

import ipaddress

import pytest
from aiohttp import web

from bot.events import Actor, ButtonPressed, CommandInvoked, Conversation, MessageReceived
from bot.features.picks.fetch import PageError, decode_page, fetch_page, make_client, pinned_request
from bot.features.picks.text import clean, one_line_summary, parse_duration
from bot.untrusted import strip_bidi

FRENCH = (
    "<html><head><title>Pourquoi apprendre à l'été</title></head><body>"
    + "<p>Les élèves préfèrent étudier après le déjeuner, à côté de la fenêtre. " * 20
    + "</p></body></html>"
)


def test_style_and_script_never_leak_and_a_lone_less_than_keeps_its_text() -> None:
    summary = (
        "<style>.intro{color:red}</style><script>track('x')</script>"
        "<p>Why <b>a &lt; b</b> matters</p><noscript>enable JS</noscript>"
    )
    assert clean(summary, 200) == "Why a < b matters"
    assert clean("Compare a < b and c > d", 200) == "Compare a < b and c > d"
    assert one_line_summary("<div><style>p{}</style>First. Second.</div>") == "First."
    assert clean("AT&amp;T &amp; friends", 100) == "AT&T & friends"


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("PT18M43S", 1123), ("pt1h", 3600), ("P1DT2S", 86402), ("00:18:43", 1123), ("P1Y", None), ("PTx", None)],
)
def test_durations(raw: str, seconds: int | None) -> None:
    assert parse_duration(raw) == seconds


def test_pages_without_a_charset_are_detected() -> None:
    latin = FRENCH.encode("cp1252")
    assert "Pourquoi apprendre à l'été" in decode_page(latin, "text/html")
    assert "été" in decode_page(FRENCH.encode("utf-8"), "text/html")
    declared = FRENCH.replace("<head>", '<head><meta charset="iso-8859-1">').encode("latin-1")
    assert "été" in decode_page(declared, "text/html")
    assert "été" in decode_page(latin, "text/html; charset=windows-1252")
    assert "été" in decode_page(latin, "text/html; charset=no-such-codec")
    russian = "<title>Почему учиться летом</title>" + "<p>Студенты учатся после обеда у окна. " * 20
    assert "Почему учиться летом" in decode_page(russian.encode("cp1251"), "text/html")
    japanese = "<title>なぜ夏に学ぶのか</title>" + "<p>学生は昼食後に窓のそばで勉強するのが好きです。" * 20
    assert "なぜ夏に学ぶのか" in decode_page(japanese.encode("shift_jis"), "text/html")


async def test_a_page_without_a_charset_reads_right_end_to_end() -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(body=FRENCH.encode("cp1252"), headers={"Content-Type": "text/html"})

    async with _server(page) as url, make_client(5.0) as client:
        info = await fetch_page(client, f"{url}/fr", allow_private=True)
    assert info.title == "Pourquoi apprendre à l'été"


def test_pinned_requests_keep_the_host_name_for_host_header_and_tls() -> None:
    assert pinned_request("https://example.org/a?b=1", "93.184.216.34") == (
        "https://93.184.216.34/a?b=1",
        {"Host": "example.org"},
        {"sni_hostname": "example.org"},
    )
    url, headers, _ = pinned_request("http://example.org:8080/", "2606:2800:220:1::1")
    assert url == "http://[2606:2800:220:1::1]:8080/" and headers == {"Host": "example.org:8080"}


async def test_the_checked_address_is_the_one_connected_to() -> None:
    """DNS rebinding: the name resolves to an allowed address for the check, then to a private
    one. The request must go to the checked address, with no second resolution."""
    seen_hosts: list[str] = []

    async def page(request: web.Request) -> web.Response:
        seen_hosts.append(request.headers["Host"])
        return web.Response(text="<title>Public page</title>", content_type="text/html")

    answers = [["127.0.0.1"], ["10.0.0.8"]]
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked), 2) - 1]

    loopback_is_public = lambda address: address.is_loopback  # noqa: E731 - the test's "public"
    async with _server(page) as url, make_client(5.0) as client:
        port = url.rsplit(":", 1)[1]
        info = await fetch_page(
            client,
            f"http://rebind.test:{port}/page",
            allow_private=False,
            resolve=rebinding,
            address_allowed=loopback_is_public,
        )
        assert info.title == "Public page"
        assert asked == ["rebind.test"] and seen_hosts == [f"rebind.test:{port}"]
        with pytest.raises(PageError, match="private network"):  # now it resolves privately
            await fetch_page(
                client,
                f"http://rebind.test:{port}/page",
                allow_private=False,
                resolve=rebinding,
                address_allowed=loopback_is_public,
            )

    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "192.168.1.5"]

    async with make_client(1.0) as client:
        with pytest.raises(PageError, match="private network"):
            await fetch_page(client, "https://mixed.test/", allow_private=False, resolve=mixed)
    assert ipaddress.ip_address("93.184.216.34").is_global


def test_bidi_controls_are_removed_from_what_people_send() -> None:
    sneaky = "Excel\u202eelif.exe \u2066x\u2069 \u200fy\u061c"
    assert strip_bidi(sneaky) == "Excelelif.exe x y"
    actor = Actor("slack", "U1", display_name="Ana\u202e")
    where = Conversation("D1")
    assert actor.display_name == "Ana"
    assert MessageReceived(actor=actor, conversation=where, text=sneaky).text == "Excelelif.exe x y"
    assert CommandInvoked(actor=actor, conversation=where, name="skillshare", text=sneaky).text.startswith(
        "Excelelif"
    )
    assert "\u202e" not in ButtonPressed(actor=actor, conversation=where, action_id="a", value=sneaky).value
    assert strip_bidi("مرحبا שלום") == "مرحبا שלום"  # right-to-left text itself is untouched


class _server:
    """A one-route local web server on an ephemeral loopback port."""

    def __init__(self, handler: web.Handler) -> None:
        self.app = web.Application()
        self.app.router.add_get("/{tail:.*}", handler)
        self.runner = web.AppRunner(self.app)

    async def __aenter__(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()
