"""New-post hooks do their slow part (the content checks) before the write transaction: other
writers (every chat update) are not kept waiting for it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from feeds.feedparse import ParsedItem
from jobs.polltypes import StoredItem
from jobs.postchecks import run_new_post_hooks
from models.base import begin_writing
from models.people import Unit

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


class SlowCheck:
    """A hook whose preparation holds on until the test lets it go."""

    def __init__(self) -> None:
        self.preparing = asyncio.Event()
        self.release = asyncio.Event()
        self.received: list[Any] = []

    async def prepare(
        self, sessionmaker, *, account_id: int, stored: Sequence[StoredItem], share: Any = None
    ) -> Any:
        self.preparing.set()
        await self.release.wait()
        return f"checked {len(stored)}"

    async def __call__(
        self, session, *, account_id: int, stored: Sequence[StoredItem], now, prepared=None
    ) -> None:
        self.received.append(prepared)


async def test_another_writer_commits_while_a_hook_prepares(sessionmaker) -> None:
    async with sessionmaker() as session:
        session.add(Unit(id=1, name="某街道办", created_at=NOW))
        await session.commit()
    hook = SlowCheck()
    item = ParsedItem(
        identity="a",
        guid=None,
        title="标题",
        link=None,
        author=None,
        published=None,
        body_text="",
        body_html="",
    )
    hooks = asyncio.create_task(
        run_new_post_hooks(sessionmaker, [hook], [(1, [StoredItem(1, item)])], now=NOW)
    )
    await asyncio.wait_for(hook.preparing.wait(), 30)

    async def write() -> None:  # what a chat update does: take the write lock, write, commit
        async with sessionmaker() as session:
            await begin_writing(session)
            await session.exec(sa.update(Unit).where(Unit.id == 1).values(name="改名"))
            await session.commit()

    # with the lock held by the hooks this would wait out the 30 s busy timeout and fail
    await asyncio.wait_for(write(), 10)
    assert not hooks.done(), "the hook is still preparing"
    hook.release.set()
    await asyncio.wait_for(hooks, 30)
    assert hook.received == ["checked 1"]
