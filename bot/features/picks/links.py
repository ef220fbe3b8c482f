"""One key per web page, so the same talk reached by different links is still one item.

TED's feed adds ``?rss=…`` to every link, newsletters add ``utm_*`` parameters, people paste
``http://www.`` or ``https://`` versions: none of that should let a channel see a talk twice.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

TRACKING = {"rss", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "ref_src", "igshid", "si"}
MAX_KEY = 700


def link_key(url: str) -> str:
    """``https://www.ted.com/talks/x/?rss=1&utm_source=a#t`` -> ``ted.com/talks/x``."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in {80, 443}:
        host = f"{host}:{parts.port}"
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in TRACKING
    )
    key = host + (parts.path.rstrip("/") or "/")
    if query:
        key += "?" + urlencode(query)
    return key[:MAX_KEY]
