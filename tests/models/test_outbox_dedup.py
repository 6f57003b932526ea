"""A notice queued twice at once (two jobs, two replicas) is queued once, and neither fails."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from models import outbox
from models.outbox import OutboxMessage

pytestmark = pytest.mark.both_backends


async def test_the_same_dedup_key_queued_concurrently_makes_one_row(sessionmaker, clock) -> None:
    async def queue() -> bool:
        async with sessionmaker() as session:
            row = await outbox.enqueue(
                session,
                chat_id=42,
                kind="review.reminder",
                params={"review_id": 1},
                now=clock.now(),
                dedup_key="review.reminder:1:2:42",
            )
            await session.commit()
            return row is not None

    made = await asyncio.gather(*(queue() for _ in range(4)))

    assert sorted(made) == [False, False, False, True]
    async with sessionmaker() as session:
        rows = list(await session.exec(select(OutboxMessage)))
    assert [(r.chat_id, r.kind, r.params) for r in rows] == [
        (42, "review.reminder", {"review_id": 1})
    ]
