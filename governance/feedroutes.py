"""Feeds derived from platform + platform id through the office's RSSHub (``RSSHUB_BASE``).

Pure: the route table is one data file (``governance/data/rsshub_routes.toml``); :func:`derive`
turns an account's platform and platform id (or pasted home-page URL) into the feed URL, or
``None`` when the platform has no route or the id does not fit it. The access key
(``RSSHUB_KEY``) is appended as RSSHub's ``?key=``; it is never shown (see ``handlers.render``,
which strips query strings from displayed URLs).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlencode

ROUTES_FILE = Path(__file__).parent / "data" / "rsshub_routes.toml"


@dataclass(frozen=True, slots=True)
class Route:
    platform: str
    route: str
    id_pattern: re.Pattern[str]
    urls: tuple[re.Pattern[str], ...]
    unreliable: bool
    needs: str
    note: str


@dataclass(frozen=True, slots=True)
class DerivedFeed:
    url: str
    route: Route
    platform_id: str


@cache
def routes(path: Path = ROUTES_FILE) -> dict[str, Route]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        platform: Route(
            platform=platform,
            route=str(entry["route"]),
            id_pattern=re.compile(entry["id"]),
            urls=tuple(re.compile(u) for u in entry.get("urls", [])),
            unreliable=bool(entry.get("unreliable", False)),
            needs=str(entry.get("needs", "")),
            note=str(entry.get("note", "")),
        )
        for platform, entry in data.items()
    }


def platform_id(route: Route, ref: str) -> str | None:
    """The id in ``ref``: the id itself, or taken from a home-page URL; ``None`` if neither."""
    text = ref.strip()
    for pattern in route.urls:
        match = pattern.search(text)
        if match:
            text = match.group(1)
            break
    return text if route.id_pattern.match(text) else None


def derive(
    platform: str, ref: str, *, base: str | None, key: str | None = None
) -> DerivedFeed | None:
    """The feed of the account on ``base`` (an RSSHub instance), or ``None``."""
    if not base:
        return None
    route = routes().get(platform)
    if route is None:
        return None
    found = platform_id(route, ref)
    if found is None:
        return None
    url = base.rstrip("/") + route.route.format(id=quote(found, safe=""))
    if key:
        url += "?" + urlencode({"key": key})
    return DerivedFeed(url=url, route=route, platform_id=found)


def is_unreliable_route(url: str, *, base: str | None) -> bool:
    """Whether ``url`` is a derived feed on a route known to answer empty or stale."""
    if not base or not url.startswith(base.rstrip("/") + "/"):
        return False
    path = url[len(base.rstrip("/")) :].split("?", 1)[0]
    for route in routes().values():
        prefix = route.route.split("{id}", 1)[0]
        if path.startswith(prefix):
            return route.unreliable
    return False
