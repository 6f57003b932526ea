"""The chat as a job or the collector sees it: updates in flight, a signal when none are, and a
signal that someone is waiting for it (tests wait on that, never on the loop going round)."""

from __future__ import annotations

import asyncio


class BusyChat:
    def __init__(self, in_flight: int) -> None:
        self.in_flight = in_flight
        self._quiet = asyncio.Event()
        self.waited_on = asyncio.Event()
        if in_flight == 0:
            self._quiet.set()

    def finish(self) -> None:
        self.in_flight = 0
        self._quiet.set()

    async def quiet(self) -> None:
        self.waited_on.set()
        await self._quiet.wait()
