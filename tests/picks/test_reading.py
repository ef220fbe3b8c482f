"""Reading feeds, pages and outside text: the TED fixtures' itunes/media fields, OpenGraph
preference order, and text that must not be able to ping anyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config
from bot.features.picks.choose import Candidate, choose
from bot.features.picks.feeds import MalformedFeed, parse_feed
from bot.features.picks.opengraph import read_page
from bot.features.picks.text import clean, defang, format_duration, parse_duration

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_ted_talks_fixture_reads_speaker_length_and_image() -> None:
    entries = parse_feed((FEEDS / "ted-talks.rss").read_bytes())
    assert len(entries) == 6
    first = entries[0]
    assert first.title == "How to make hard choices"  # " | Ruth Chang" moved to the speaker
    assert first.speaker == "Ruth Chang"
    assert first.duration_seconds == 14 * 60 + 42  # itunes:duration
    assert first.guid == "eng.video.talk.ted.com:26801"
    assert first.image_url.startswith("https://pi.tedcdn.com/")  # media:thumbnail
    assert first.summary == "Here's a talk that could literally change your life."
    assert first.published_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    by_speaker = {e.speaker: e for e in entries}
    assert by_speaker["Tim Urban"].duration_seconds == 962  # media:content duration="962"
    assert by_speaker["Simon Sinek"].duration_seconds is None  # empty itunes:duration: unknown


def test_ted_ideas_fixture_reads_author_and_media_image() -> None:
    entries = parse_feed((FEEDS / "ted-ideas.rss").read_bytes())
    assert len(entries) == 6
    first = entries[0]
    assert first.speaker == "Daniela Mujica"  # dc:creator
    assert first.duration_seconds is None
    assert first.image_url.endswith("/151201.jpg")
    assert "appeared first on" not in first.summary


def test_malformed_feed_is_refused_with_a_reason() -> None:
    with pytest.raises(MalformedFeed, match="not a readable feed"):
        parse_feed((FEEDS / "malformed.rss").read_bytes())
    with pytest.raises(MalformedFeed):
        parse_feed(b"")


def test_entries_without_a_web_link_or_title_are_dropped() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
    <item><title>No link</title></item>
    <item><title>Mail link</title><link>mailto:a@example.org</link></item>
    <item><title></title><link>https://example.org/untitled</link></item>
    <item><title>Good</title><link>https://example.org/good</link></item>
    </channel></rss>"""
    assert [e.title for e in parse_feed(body)] == ["Good"]


def test_relative_links_are_made_absolute_against_the_feed_address() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
    <item><title>Relative</title><link>/posts/relative</link></item></channel></rss>"""
    [entry] = parse_feed(body, base_url="https://blog.example.org/feed.xml")
    assert entry.url == "https://blog.example.org/posts/relative"


def test_opengraph_wins_over_meta_and_title_and_stops_at_body() -> None:
    page = read_page("https://blog.example.org/learning-habit", (FEEDS / "shared-page.html").read_text())
    assert page.title == "The 20-minute habit that makes teams learn faster & better"
    assert page.description.startswith("Teams that spend twenty minutes")
    assert page.image_url == "https://blog.example.org/images/learning-habit.jpg"  # made absolute
    assert page.site_name == "Example Learning Blog"
    assert page.kind == "article"


def test_page_without_meta_falls_back_to_title_then_address() -> None:
    head = (
        "<title> A talk </title><meta property='og:type' content='video.other'>"
        "<meta property='og:image' content='javascript:alert(1)'>"
    )
    page = read_page("https://www.example.org/talks/42", head)
    assert (page.title, page.site_name, page.kind, page.image_url) == ("A talk", "example.org", "talk", "")
    bare = read_page("https://www.example.org/report.pdf", "")
    assert bare.title == "www.example.org/report.pdf"


def test_outside_text_cannot_ping() -> None:
    assert "<!" not in defang("<!channel> hi <!here|here> <@U123>")
    cleaned = clean("Hi @channel and @Everyone, <b>bold</b>\u202e &amp; more", 200)
    assert "@channel" not in cleaned and "@Everyone" not in cleaned
    assert "<b>" not in cleaned and "\u202e" not in cleaned and "&" in cleaned
    assert clean("word " * 100, 30).endswith("…") and len(clean("word " * 100, 30)) <= 30
    assert "ana@example.org" in clean("mail ana@example.org", 100)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("00:18:43", 1123),
        ("18:43", 1123),
        ("1123", 1123),
        ("962.5", 962),
        ("", None),
        ("abc", None),
        (None, None),
        ("0", None),
    ],
)
def test_durations(raw: str | None, seconds: int | None) -> None:
    assert parse_duration(raw) == seconds


def test_duration_wording() -> None:
    assert [format_duration(s) for s in (None, 20, 882, 3600, 5400)] == [
        "",
        "under a minute",
        "15 min",
        "1 h",
        "1 h 30 min",
    ]


def test_choose_adds_freshness_suggestion_and_votes() -> None:
    def item(n: int, days: float, source: str = "feed", suggested: bool = False) -> Candidate:
        return Candidate(n, "article", source, NOW - timedelta(days=days), suggested, f"x/{n}")

    pool = [item(1, 10), item(2, 1), item(3, 20, "site:blog", suggested=True), item(4, 5, "liked")]
    picked = choose(pool, [("article", 3)], now=NOW, max_age_days=60, votes={"liked": 5})
    # 4: 0.92 fresh + 1.0 votes; 3: 0.67 fresh + 1.0 suggested; 2: 0.98 fresh; 1: 0.83 fresh
    assert [c.item_id for c in picked] == [4, 3, 2]
    assert choose(pool, [("talk", 2)], now=NOW, max_age_days=60, votes={}) == []


def test_picks_config_is_strict() -> None:
    base = {"offices": [{"id": "x", "name": "X"}]}
    assert parse_config(base).picks.mix == {"talk": 2, "article": 2}
    with pytest.raises(ConfigError, match=r"picks.mix.podcast"):
        parse_config({**base, "picks": {"mix": {"podcast": 1}}})
    with pytest.raises(ConfigError, match="at least one item"):
        parse_config({**base, "picks": {"mix": {"talk": 0}}})
    with pytest.raises(
        ConfigError,
        match=r"picks.fetch_timout_seconds: unknown key \(did you mean 'fetch_timeout_seconds'\?\)",
    ):
        parse_config({**base, "picks": {"fetch_timout_seconds": 3}})


def test_link_keys_ignore_tracking_scheme_and_www() -> None:
    from bot.features.picks.links import link_key

    same = [
        "https://www.ted.com/talks/ruth_chang_how_to_make_hard_choices?rss=172BB350-0205",
        "http://ted.com/talks/ruth_chang_how_to_make_hard_choices/",
        "https://www.ted.com/talks/ruth_chang_how_to_make_hard_choices?utm_source=newsletter#t-120",
    ]
    assert {link_key(url) for url in same} == {"ted.com/talks/ruth_chang_how_to_make_hard_choices"}
    assert link_key("https://example.org/watch?v=2&list=1") == "example.org/watch?list=1&v=2"
    assert link_key("https://example.org/watch?v=1") != link_key("https://example.org/watch?v=2")
    assert link_key("http://127.0.0.1:8080/a") == "127.0.0.1:8080/a"
