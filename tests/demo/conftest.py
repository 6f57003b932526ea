"""The demo, started in-process on a free loopback port with its data in the test's tmp dir."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo.run import Demo, DemoOptions


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    options = DemoOptions(directory=tmp_path / "demo", port=0, open_browser=False)
    async with Demo(options) as running:
        await asyncio.wait_for(running.ready.wait(), 60)  # the first poll of every farm feed
        yield running


class Events:
    """The page's live stream (/api/events), read in the background; tests wait on it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()

    async def read(self, response: aiohttp.ClientResponse) -> None:
        async for raw in response.content:
            line = raw.decode().strip()
            if not line.startswith("data: "):
                continue
            async with self._changed:
                self.seen.append(json.loads(line.removeprefix("data: ")))
                self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, since: int = 0, timeout: float = 20
    ) -> dict[str, Any]:
        async def found() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for event in self.seen[since:]:
                        if predicate(event):
                            return event
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            kinds = [(e["type"], str(e.get("message", {}).get("text", ""))[:40]) for e in self.seen]
            raise AssertionError(f"no matching event within {timeout}s; saw {kinds}") from None


def bot_message(chat_id: int, *needles: str) -> Callable[[dict[str, Any]], bool]:
    """An event of a bot message (new or edited) in ``chat_id`` containing every needle."""

    def matches(event: dict[str, Any]) -> bool:
        message = event.get("message") or {}
        return (
            event.get("type") in {"message", "edit"}
            and message.get("from_bot")
            and message.get("chat_id") == chat_id
            and all(n in message.get("text", "") for n in needles)
        )

    return matches
