"""CPU work on the event loop in slices, so the chat's replies get in between.

asyncio runs one callback at a time: a job that builds rows for 6,000 new posts in one go holds
every reply that became ready meanwhile for as long (a first import's write batch: hundreds of
milliseconds). A loop over such work awaits :meth:`TimeSlices.checkpoint` between its steps; it
yields to the loop once a slice's budget is spent, and costs a clock read otherwise.
"""

from __future__ import annotations

import asyncio
import time

SLICE_SECONDS = 0.004
"""A reply's few database round trips each wait at most about this long behind a job."""


class TimeSlices:
    """Yield to the event loop after every ``budget`` seconds of work between checkpoints."""

    __slots__ = ("_since", "budget")

    def __init__(self, budget: float = SLICE_SECONDS) -> None:
        self.budget = budget
        self._since = time.perf_counter()

    async def checkpoint(self) -> None:
        if time.perf_counter() - self._since >= self.budget:
            await asyncio.sleep(0)
            self._since = time.perf_counter()
