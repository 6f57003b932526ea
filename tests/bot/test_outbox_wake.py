"""The outbox sender is woken after an update's commit only when the update queued a message:
most updates (a list, a card) queue none, and a sender pass costs a query on the event loop."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.transaction import UpdateTransaction
from models import outbox

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def test_only_a_commit_that_queued_a_message_wakes_the_sender(sessionmaker) -> None:
    woken: list[str] = []
    async with sessionmaker() as session:
        transaction = UpdateTransaction(session, after_commit=lambda: woken.append("wake"))
        await session.get(outbox.OutboxMessage, 1)  # a read-only update
        await transaction.commit()
        transaction.committed()
        assert woken == []

        await outbox.enqueue(session, chat_id=42, kind="text", params={"text": "hi"}, now=NOW)
        await transaction.commit()
        assert woken == ["wake"]

        # the same dedup key again queues nothing: nothing new to send
        for _ in range(2):
            await outbox.enqueue(session, chat_id=42, kind="text", now=NOW, dedup_key="k")
            await transaction.commit()
        assert woken == ["wake", "wake"]
