"""Title, description, image and kind of a shared page, from its OpenGraph and meta tags.

The standard library's :class:`html.parser.HTMLParser` reads the head: a handful of ``<meta>``
tags and the ``<title>``; reading stops at ``<body>``, so a large page costs little. Text that
may carry markup (titles, descriptions) is then made plain by :func:`bot.picks.text.clean`,
which uses BeautifulSoup.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from bot.features.picks.text import clean, one_line_summary


@dataclass(frozen=True, slots=True)
class PageInfo:
    url: str
    title: str
    description: str
    image_url: str
    site_name: str
    kind: str  # "talk" for videos, otherwise "article"


class _HeadParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
        elif tag == "title":
            self._in_title = True
        elif tag == "meta":
            values = {name.lower(): value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values and key not in self.meta:
                self.meta[key] = values["content"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.done:
            self.title += data


def read_page(url: str, html_text: str) -> PageInfo:
    """What to show for ``url``, preferring OpenGraph, then Twitter cards, then plain meta."""
    parser = _HeadParser()
    parser.feed(html_text)
    meta = parser.meta

    def first(*keys: str) -> str:
        return next((meta[k] for k in keys if meta.get(k, "").strip()), "")

    host = urlsplit(url).hostname or ""
    title = clean(first("og:title", "twitter:title") or parser.title, 300)
    image = first("og:image:secure_url", "og:image", "twitter:image")
    og_type = first("og:type").lower()
    return PageInfo(
        url=url,
        title=title or clean(host + urlsplit(url).path, 300),
        description=one_line_summary(first("og:description", "twitter:description", "description"), 300),
        image_url=_web_url(urljoin(url, image.strip())) if image.strip() else "",
        site_name=clean(first("og:site_name") or host.removeprefix("www."), 200),
        kind="talk" if og_type.startswith("video") else "article",
    )


def _web_url(url: str) -> str:
    """Only http(s) images are shown; ``javascript:`` or ``data:`` URLs are dropped."""
    return url if urlsplit(url).scheme in {"http", "https"} else ""
