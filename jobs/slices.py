"""Jobs share the event loop with the chat: replies first, and CPU work in slices.

asyncio runs one callback at a time and keeps no priorities: a poll tick or an evaluation pass
in the bot's process fills the loop's queue, and every step of a reply (each database round
trip) waits behind what is queued. A job's loop awaits :meth:`LoopShare.checkpoint` between its
steps: while updates are being handled (:class:`Replies`, the dispatcher's in-flight count) it
waits for them to finish, at most :data:`MAX_WAIT` (a chat that never pauses must not stop the
jobs); otherwise it yields to the loop once a slice's budget of work is spent (a write batch
building rows for 6,000 new posts in one go held the loop for hundreds of milliseconds). A
jobs-only replica has no updates in flight and only slices.

CPU work the jobs used to hand to a thread (the content checks of new posts, an evaluation
batch's activity reports) runs on the loop in such slices instead, :meth:`LoopShare.slice`
between items: a thread shares the interpreter's lock with the loop, so while it computed, every
reply ran at half speed, and no checkpoint held it back while replies were in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

SLICE_SECONDS = 0.004
"""Work between two yields to the loop: a reply's round trip waits about this long at most."""
MAX_WAIT = 0.1
"""The longest a job step waits for the chat to go quiet."""


class Replies(Protocol):
    """The chat, as a job sees it: how many updates are being handled, and when none are."""

    @property
    def in_flight(self) -> int: ...

    async def quiet(self) -> None: ...


class LoopShare:
    """Between two steps of a job: let the replies go first, then work in slices."""

    __slots__ = ("_since", "budget", "max_wait", "replies")

    def __init__(
        self,
        replies: Replies | None = None,
        *,
        budget: float = SLICE_SECONDS,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.replies, self.budget, self.max_wait = replies, budget, max_wait
        self._since = time.perf_counter()

    async def checkpoint(self) -> None:
        if self.replies is not None and self.replies.in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.replies.quiet(), self.max_wait)
        elif time.perf_counter() - self._since >= self.budget:
            await asyncio.sleep(0)
        else:
            return
        self._since = time.perf_counter()

    async def slice(self) -> None:
        """Between small items of CPU work: nothing until the slice's budget is spent, then a
        :meth:`checkpoint` (replies first)."""
        if time.perf_counter() - self._since >= self.budget:
            await self.checkpoint()
