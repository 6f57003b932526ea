"""The interpreter under a long-running bot: the garbage collector and the GIL, set so that a
job in the same process does not stop the chat.

- **Full collections** (generation 2) walk every object the collector tracks, on the event
  loop's thread: with the modules, the dispatcher and the content checker's automaton in the
  heap, a poll tick and an evaluation pass set off collections of 300-480 ms each
  (``bench/reply_latency.py`` counts them). :func:`freeze_survivors` moves what lives for the
  whole run to the permanent generation (:func:`gc.freeze`), which is never walked again; and
  :class:`QuietCollections` runs the full collections itself, when no update is being handled,
  instead of whenever the younger generations overflow (under a poll tick: 8-11 a minute of
  40-70 ms each, whichever reply was running waited). Objects frozen are still freed by
  reference counting; only a cycle that becomes garbage while frozen waits, for the deep
  collection every :data:`DEEP_COLLECTION_SECONDS` or :func:`thaw`.
- **CPU priority across processes**: a jobs-only replica and the parse workers give way to the
  chat on a shared machine (``os.nice(JOBS_NICE)`` in :func:`bot.app.run` and as the workers'
  initializer): with the jobs in a process of their own, the replies still waited for the cores
  the jobs kept busy.
- **The event loop**: uvloop where it is installed (:func:`run_loop`). A reply is a dozen
  database round trips and two Bot API requests, each a few loop callbacks and socket calls;
  uvloop runs them in C.
- **The GIL's switch interval**: a parse or a content check in a worker thread holds the GIL
  until the interpreter asks it to let go, 5 ms by default, and the loop's thread waits that
  long after each socket read; 1 ms keeps a reply's round trips from queueing behind threads.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")
EventLoop = Literal["auto", "uvloop", "asyncio"]

FULL_COLLECTION_SECONDS = 30.0
"""How often the bot runs a full collection itself (when the chat is quiet)."""
DEEP_COLLECTION_SECONDS = 1800.0
"""How often that collection is a deep one: everything thawed, walked and frozen again."""
SWITCH_INTERVAL = 0.001
_NEVER = 1 << 30


def run_loop(main: Coroutine[Any, Any, T], *, loop: EventLoop = "auto") -> T:
    """Run ``main`` to completion on uvloop (``auto``: where installed) or asyncio's loop."""
    if loop != "asyncio":
        try:
            import uvloop
        except ImportError:
            if loop == "uvloop":
                raise
        else:
            return uvloop.run(main)
    return asyncio.run(main)


def loop_name() -> str:
    """Which loop runs the caller: ``uvloop`` or ``asyncio`` (for the startup log)."""
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.startswith("uvloop") else "asyncio"


class Chat(Protocol):
    async def quiet(self) -> None: ...


def freeze_survivors() -> int:
    """Exempt every object alive now from future full collections; how many are exempt."""
    gc.freeze()
    return gc.get_freeze_count()


def thaw() -> None:
    """Give the frozen objects back to the collector (the app is stopping)."""
    gc.unfreeze()


class QuietCollections:
    """Full collections at the chat's quiet moments, every :data:`FULL_COLLECTION_SECONDS`.

    What survives a collection is frozen as well, so the next one walks only what is younger
    than it (under a poll tick the survivors since startup had grown to 50,000-80,000 objects,
    30-67 ms a walk). A cycle frozen while alive and dropped later is found by the deep
    collection, every :data:`DEEP_COLLECTION_SECONDS` (one walk of the whole heap).

    :meth:`take_over` stops the automatic ones (the generation-2 threshold set out of reach)
    and shortens the GIL's switch interval; :meth:`hand_back` restores both.
    """

    def __init__(
        self,
        chat: Chat,
        *,
        every: float = FULL_COLLECTION_SECONDS,
        deep_every: float = DEEP_COLLECTION_SECONDS,
    ) -> None:
        self.chat, self.every = chat, every
        # every how many-th collection is the deep one
        self._deep_turn = max(1, round(deep_every / every)) if every > 0 else 1
        self._thresholds = gc.get_threshold()
        self._switch = sys.getswitchinterval()
        self.collections = 0
        self.deep = 0

    def take_over(self) -> None:
        self._thresholds = gc.get_threshold()
        self._switch = sys.getswitchinterval()
        young, middle, _old = self._thresholds
        gc.set_threshold(young, middle, _NEVER)
        sys.setswitchinterval(SWITCH_INTERVAL)

    def hand_back(self) -> None:
        gc.set_threshold(*self._thresholds)
        sys.setswitchinterval(self._switch)

    async def run(self, wait_stopping: Callable[[float], Awaitable[bool]]) -> None:
        """Until ``wait_stopping(every)`` says the app stops: wait, let the chat go quiet,
        collect."""
        while not await wait_stopping(self.every):
            await self.chat.quiet()
            self.collections += 1
            if self.collections % self._deep_turn == 0:
                gc.unfreeze()
                self.deep += 1
            gc.collect()
            gc.freeze()
