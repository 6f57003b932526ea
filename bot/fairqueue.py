"""Which queued message goes next: among destinations free to receive, the one with most waiting.

The outbox holds messages for many destinations (Telegram chats, group robots), each with a
limit of its own (one a second per private chat, 20 a minute per group or WeCom robot …) and,
for Telegram, one ceiling over all of them (30 a second). Sending rows in the order they were
queued wastes the ceiling: ten rows for one chat in a row hold every other chat back while the
first chat's per-second limit runs out (head-of-line blocking). :class:`FairQueue` instead keeps
one lane per destination, in queue order within the lane (never reordered), and

- a lane waits, without blocking any other, until its own limit frees its slot;
- among the lanes free now, the one with the most messages still waiting goes first (its
  per-destination limit is the longest path to the end of the backlog), then the oldest head;
- the ceiling over all lanes is a *gate* checked once a lane is chosen.

So whatever the order of the queue, the ceiling stays busy while any lane may send, and the
busiest destination is never left for last. Pure and clock-free: readiness comes from a callable
(``ready(key, now) -> earliest time``), so Telegram's :class:`bot.pacing.Pacer` and the robots'
per-minute windows use the same engine, and tests drive it with any numbers. A lane's readiness
only moves later between its own sends (a send, a 429), which the lazy heap relies on: a stale
entry is corrected when it reaches the top.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

#: ``ready(key, now)``: the earliest time (same unit as ``now``) the lane ``key`` may send.
Ready = Callable[[K, float], float]


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing may go now; ``seconds`` until something may (``inf`` when nothing is queued)."""

    seconds: float


@dataclass
class FairQueue(Generic[K]):
    """Row ids per destination; :meth:`pick` chooses the next one to send."""

    _lanes: dict[K, deque[int]] = field(default_factory=dict)
    #: rows each lane still has to send, those not loaded here included (for the priority)
    _backlog: Counter[K] = field(default_factory=Counter)
    #: lanes waiting for their slot: (earliest time, head row id, lane)
    _waiting: list[tuple[float, int, K]] = field(default_factory=list)
    #: lanes free now: (- backlog, head row id, lane)
    _free: list[tuple[int, int, K]] = field(default_factory=list)
    _known: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self._known)

    def load(
        self,
        rows: Iterable[tuple[K, int]],
        *,
        now: float,
        backlog: Mapping[K, int] | None = None,
    ) -> None:
        """Replace the queue by ``rows`` (destination, row id); ``backlog``: each destination's
        rows in all, when only the first few of each are loaded."""
        self.clear()
        self.extend(rows, now=now)
        for key, count in (backlog or {}).items():
            if key in self._lanes:
                self._backlog[key] = max(self._backlog[key], count)

    def extend(self, rows: Iterable[tuple[K, int]], *, now: float) -> None:
        """Add rows not known yet (a row id is queued once)."""
        touched: set[K] = set()
        for key, row_id in rows:
            if row_id in self._known:
                continue
            self._known.add(row_id)
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = deque()
                touched.add(key)
            lane.append(row_id)
            self._backlog[key] += 1
        for key in touched:
            lane = self._lanes[key]
            if sorted(lane) != list(lane):
                self._lanes[key] = lane = deque(sorted(lane))
            heapq.heappush(self._waiting, (now, lane[0], key))

    def drop(self, key: K) -> None:
        """Forget a destination's rows (a 429 postponed them; they come back when due)."""
        for row_id in self._lanes.pop(key, ()):
            self._known.discard(row_id)
        self._backlog.pop(key, None)

    def clear(self) -> None:
        self._lanes, self._backlog, self._known = {}, Counter(), set()
        self._waiting, self._free = [], []

    def _current(self, key: K, head: int) -> deque[int] | None:
        lane = self._lanes.get(key)
        return lane if lane and lane[0] == head else None  # else a dropped or advanced lane

    def pick(
        self,
        now: float,
        ready: Ready[K],
        gate: Callable[[float], float] | None = None,
    ) -> tuple[K, int] | Wait:
        """The next (destination, row id) to send now, or how long until one may go.

        ``gate(now)`` is the earliest time the shared ceiling allows any send. The row is taken
        off its lane, and the lane's next row waits for the slot ``ready`` gives once the caller
        has noted the send.
        """
        waiting, free = self._waiting, self._free
        while waiting:
            at, head, key = waiting[0]
            if self._current(key, head) is None:
                heapq.heappop(waiting)
                continue
            earliest = ready(key, now)
            if earliest > at:
                heapq.heapreplace(waiting, (earliest, head, key))
                continue
            if at > now:
                break
            heapq.heappop(waiting)
            heapq.heappush(free, (-self._backlog[key], head, key))
        while free and self._current(free[0][2], free[0][1]) is None:
            heapq.heappop(free)
        if not free:
            return Wait(waiting[0][0] - now if waiting else float("inf"))
        if gate is not None and (opens := gate(now)) > now:
            return Wait(opens - now)
        _, head, key = heapq.heappop(free)
        lane = self._lanes[key]
        row_id = lane.popleft()
        self._known.discard(row_id)
        self._backlog[key] -= 1
        if lane:
            heapq.heappush(waiting, (now, lane[0], key))
        else:
            del self._lanes[key]
            self._backlog.pop(key, None)
        return key, row_id
