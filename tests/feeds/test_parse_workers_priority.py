"""The feed parse workers serve only the jobs: they give way to the chat's process on the CPU."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from feeds.parsing import FeedParser

RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>http://example.org/a</link><guid>a</guid></item></channel></rss>"""


async def test_parse_workers_run_at_the_lower_priority_they_are_given() -> None:
    parser = FeedParser(workers=1, fast=False, nice=5)
    try:
        parsed = await parser.parse(RSS, {}, first_seen=datetime(2026, 1, 1, tzinfo=UTC))
        assert [item.title for item in parsed.items] == ["a"]
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        (worker,) = parser.worker_pids()
        assert os.getpriority(os.PRIO_PROCESS, worker) == min(19, ours + 5)
    finally:
        parser.close()
