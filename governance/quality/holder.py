"""Thread-safe swapping of the checker when admins change words (no restart needed).

Readers take `holder.current` (one attribute read, atomic) and keep using the checker
they got; `rebuild` builds the new automaton outside the lock (about 0.1 s) and swaps.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from .checker import Checker
from .model import Customization


@lru_cache(maxsize=4)
def _built(custom: Customization) -> Checker:
    """Checkers are immutable, so equal rules share one build (a build takes about a second:
    a restart, a refresh that changed nothing, every bot a test process starts)."""
    return Checker(custom)


class CheckerHolder:
    __slots__ = ("_checker", "_lock")

    def __init__(self, checker: Checker | None = None) -> None:
        self._lock = threading.Lock()
        self._checker = checker if checker is not None else _built(Customization())

    @property
    def current(self) -> Checker:
        return self._checker

    def rebuild(self, custom: Customization) -> Checker:
        """Build a checker with `custom` on top of the shipped data and make it current."""
        fresh = _built(custom)
        with self._lock:
            self._checker = fresh
        return fresh
