"""The audit log is append-only; dialog state lives in the database across restarts."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import DatabaseStorage
from models import audit

pytestmark = pytest.mark.both_backends


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
