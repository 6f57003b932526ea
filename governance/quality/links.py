"""Links in plain text, domain allow-listing, and the vice vocabulary of URLs.

The dead-link check itself needs the network and runs in jobs/; this module only finds
the links (with their spans) so that job knows what to fetch.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .model import Link

URL = re.compile(
    r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]'"


def links_in_text(text: str) -> list[Link]:
    out = []
    for m in URL.finditer(text):
        url = m.group().rstrip(_TRAILING)
        if len(url) > 4:
            out.append(Link(url, m.start(), m.start() + len(url), url))
    return out


def host_of(url: str) -> str | None:
    """Lower-case host of an absolute (or scheme-less www.) URL; None for relative links."""
    u = url.strip()
    if u.lower().startswith("www."):
        u = "http://" + u
    try:
        parts = urlsplit(u)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "") or not host:
        return None
    return host.rstrip(".").lower()


def domain_allowed(host: str, allowed: frozenset[str]) -> bool:
    """True when host equals an allowed domain or is a subdomain of one."""
    labels = host.split(".")
    return any(".".join(labels[i:]) in allowed for i in range(len(labels)))
