"""Telegram's flood limits, enforced by the fake Bot API: a 429 for every message over them.

Strict sliding windows on the time each request *arrives*: at most ``per_second`` messages in
any one-second window overall, at most one per ``private_interval`` to a private chat, at most
``group_per_minute`` in any 60 s to a group. Telegram itself is more lenient (it tolerates short
bursts), so a sender that gets no 429 here gets none there. Refused requests do not count.
The clock is injectable, so tests on the manual clock and benches on real time use the same rule.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FloodLimiter:
    per_second: int = 30
    private_interval: float = 1.0
    group_per_minute: int = 20
    clock: Callable[[], float] = time.monotonic
    refused: int = 0
    """How many requests were answered 429."""
    accepted: list[tuple[float, int]] = field(default_factory=list)
    """(arrival time, chat) of every message let through, in order."""
    _recent: deque[float] = field(default_factory=deque)
    _chats: dict[int, deque[float]] = field(default_factory=dict)

    def admit(self, chat_id: int) -> int:
        """0 when the message may go (and counts it), else the ``retry_after`` to answer."""
        now = self.clock()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        window, cap = (60.0, self.group_per_minute) if chat_id < 0 else (self.private_interval, 1)
        sent = self._chats.setdefault(chat_id, deque())
        while sent and now - sent[0] >= window:
            sent.popleft()
        waits = []
        if len(self._recent) >= self.per_second:
            waits.append(self._recent[0] + 1.0 - now)
        if len(sent) >= cap:
            waits.append(sent[0] + window - now)
        if waits:
            self.refused += 1
            return max(1, math.ceil(max(waits)))
        self._recent.append(now)
        sent.append(now)
        self.accepted.append((now, chat_id))
        return 0
