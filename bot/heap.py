"""The garbage collector and a long-running bot: keep what lives for the whole run out of the
full collections.

A full (generation 2) collection walks every object the collector tracks, and it runs on the
event loop's thread, so a reply waits for all of it: with the modules, the dispatcher and the
content checker's automaton in the heap, a poll tick and an evaluation pass set off collections
of 300-480 ms each (``bench/reply_latency.py`` counts them). What :func:`freeze_survivors`
moves to the permanent generation (:func:`gc.freeze`) is never walked again; objects made later
are collected as before. Freezing and thawing are constant time; objects frozen are still freed
by reference counting, and only a cycle that becomes garbage while frozen waits for
:func:`thaw` (the app thaws when it stops, so a test process running many apps keeps nothing).
"""

from __future__ import annotations

import gc


def freeze_survivors() -> int:
    """Exempt every object alive now from future full collections; how many are exempt."""
    gc.freeze()
    return gc.get_freeze_count()


def thaw() -> None:
    """Give the frozen objects back to the collector (the app is stopping)."""
    gc.unfreeze()
