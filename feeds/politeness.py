"""Per-host politeness: at most N requests in flight and a minimum spacing between starts.

aiohttp's ``limit_per_host`` caps connections but not their rate; one self-hosted RSSHub usually
serves every account, and Weibo bans bursts, so request starts to one host are also spaced out.
Spacing is real (monotonic) time, not the injected clock: it is about the remote server's load.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TypeVar

from yarl import URL

T = TypeVar("T")


class HostPacer:
    """Hands out request slots per host; one instance per poll run, shared by its workers."""

    def __init__(self, *, per_host: int, spacing: float) -> None:
        if per_host < 1 or spacing < 0:
            raise ValueError("per_host must be >= 1 and spacing >= 0")
        self.per_host = per_host
        self.spacing = spacing
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        gate = self._gates.setdefault(host, asyncio.Semaphore(self.per_host))
        async with gate:
            if self.spacing:
                loop = asyncio.get_running_loop()
                now = loop.time()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self.spacing
                if start > now:
                    await asyncio.sleep(start - now)
            yield


def host_key(url: str) -> str:
    """The politeness key of a URL: host and port (a malformed URL gets its own key)."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return url
    return f"{(parsed.host or '').lower()}:{parsed.port}"


def interleave_by_host(items: Sequence[T], key: Iterable[str]) -> list[T]:
    """Round-robin over hosts, so workers waiting on one busy host do not starve the others."""
    groups: dict[str, list[T]] = {}
    for item, k in zip(items, key, strict=True):
        groups.setdefault(k, []).append(item)
    queues = [list(reversed(g)) for g in groups.values()]
    out: list[T] = []
    while queues:
        queues = [q for q in queues if q]
        for q in queues:
            out.append(q.pop())
    return out
