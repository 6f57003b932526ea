"""Fixtures for the fetch layer: the local feed server and a guarded session that may reach
only 127.0.0.1 (where the feed server listens)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from feeds.fetch import make_feed_session
from feeds.netguard import GuardPolicy
from tests.fakes import FeedServer

LOOPBACK_ONLY = GuardPolicy(allowed_hosts=frozenset({"127.0.0.1"}))


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


@pytest.fixture
def policy() -> GuardPolicy:
    return LOOPBACK_ONLY


@pytest.fixture
async def session(policy: GuardPolicy) -> AsyncIterator[aiohttp.ClientSession]:
    async with make_feed_session(policy) as client:
        yield client
