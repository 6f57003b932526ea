"""Every feed of the feedparser test corpus, served over HTTP, fetched and parsed.

The corpus (about 2,100 real test documents: encodings, entities, ill-formed XML) lives in
``<project>/../shared/corpus/feeds/feedparser-tests`` and is read in place, never copied. Files
carry their HTTP headers in ``Header:`` comment lines, which the feed server sends. Each file
must end in a defined outcome without an unhandled error; parsing runs in worker threads as the
poller will run it.
"""

from __future__ import annotations

import asyncio
import collections
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from feeds.feedparse import parse_feed
from feeds.fetch import fetch_feed
from feeds.netguard import guarded_connector
from feeds.outcome import PollOutcome
from tests.fakes import FeedServer
from tests.jobs.conftest import LOOPBACK_ONLY

CORPUS = Path(__file__).resolve().parents[2].parent / "shared/corpus/feeds/feedparser-tests"
CONCURRENCY = 16

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in {".xml", ".json"})


async def test_whole_corpus_ends_in_defined_outcomes() -> None:
    files = corpus_files()
    assert len(files) > 2000
    first_seen = datetime.now(UTC)
    outcomes: dict[str, PollOutcome] = {}
    gate = asyncio.Semaphore(CONCURRENCY)
    started = time.monotonic()

    async with (
        FeedServer(files_dir=CORPUS) as server,
        aiohttp.ClientSession(
            connector=guarded_connector(
                LOOPBACK_ONLY, limit=CONCURRENCY, limit_per_host=CONCURRENCY
            ),
            trust_env=False,
        ) as session,
    ):

        async def poll(path: Path) -> None:
            relative = path.relative_to(CORPUS).as_posix()
            async with gate:
                fetched = await fetch_feed(
                    session,
                    server.url("/files/" + relative),
                    policy=LOOPBACK_ONLY,
                    timeout=30,
                    user_agent="corpus-test",
                )
            outcome = fetched.outcome
            if outcome is PollOutcome.OK:
                assert fetched.body is not None
                parsed = await asyncio.to_thread(
                    parse_feed, fetched.body, fetched.headers, first_seen=first_seen
                )
                if not parsed.is_feed:
                    outcome = PollOutcome.NOT_A_FEED
                for item in parsed.items:
                    assert item.identity and len(item.identity) <= 512
                    assert item.published is None or item.published <= first_seen
                    assert item.published is None or item.published.tzinfo is not None
            outcomes[relative] = outcome

        await asyncio.gather(*(poll(path) for path in files))

    elapsed = time.monotonic() - started
    counts = collections.Counter(outcomes.values())
    assert len(outcomes) == len(files)
    assert all(isinstance(o, PollOutcome) for o in outcomes.values())
    # The corpus is made of feeds: nearly all must parse as one (the rest are an empty document
    # and channel-only CDF files with no version feedparser names).
    assert counts[PollOutcome.OK] >= 0.99 * len(files), counts
    assert elapsed < 60, f"corpus took {elapsed:.1f}s"
