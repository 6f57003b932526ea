"""The audit log is append-only; dialog state lives in the database across restarts and
commits with the update it belongs to."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import DatabaseStorage, storage_key
from bot.transaction import UpdateTransaction, update_transaction
from models import audit
from models.fsm import DialogState


async def test_audit_rows_cannot_be_changed_or_deleted(sessionmaker, clock) -> None:
    async with sessionmaker() as session:
        entry = await audit.record(
            session, at=clock.now(), actor_id=None, action="x.done", object_type="x", object_id=1
        )
        await session.commit()
        entry.action = "x.undone"
        session.add(entry)
        with pytest.raises(PermissionError):
            await session.flush()
        await session.rollback()
        await session.delete(entry)
        with pytest.raises(PermissionError):
            await session.flush()


async def test_dialog_state_survives_a_new_storage_instance(sessionmaker, clock) -> None:
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    first = DatabaseStorage(sessionmaker=sessionmaker, clock=clock)
    await first.set_state(key, "RegisterForm:name")
    await first.set_data(key, {"platform": "weibo"})
    second = DatabaseStorage(sessionmaker=sessionmaker, clock=clock)
    assert await second.get_state(key) == "RegisterForm:name"
    assert await second.get_data(key) == {"platform": "weibo"}
    await second.set_state(key, None)
    await second.set_data(key, {})
    assert await first.get_state(key) is None and await first.get_data(key) == {}


async def test_dialog_state_commits_or_rolls_back_with_the_updates_data(
    sessionmaker, clock
) -> None:
    key = StorageKey(bot_id=1, chat_id=3, user_id=3)
    storage = DatabaseStorage(sessionmaker=sessionmaker, clock=clock)
    async with sessionmaker() as session:
        with update_transaction(UpdateTransaction(session)):
            await storage.set_state(key, "SubmitForm:collect")
            assert await storage.get_state(key) == "SubmitForm:collect"  # its own write
            async with sessionmaker() as other:
                assert await other.get(DialogState, storage_key(key)) is None  # not yet visible
            await session.rollback()  # the update failed: its dialog step is undone too
        assert await storage.get_state(key) is None
        with update_transaction(UpdateTransaction(session)):
            await storage.set_data(key, {"draft_key": "d1"})
            await session.commit()
    assert await storage.get_data(key) == {"draft_key": "d1"}
