"""aiogram FSM storage in our own database, used when no Redis is configured.

Dialog state must survive a restart (a half-filled registration form is work a civil servant
does not want to repeat), and the embedded default has no Redis, so the state lives in the
``dialog_states`` table next to everything else.

Inside an update the state is read and written through the update's own session
(:mod:`bot.transaction`): it commits with the update's data or not at all, and no second
connection writes meanwhile. Outside an update (tests, tools) it uses a session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.transaction import current_transaction
from governance.clock import Clock
from models.fsm import DialogState


def storage_key(key: StorageKey) -> str:
    parts = [str(key.bot_id), str(key.chat_id), str(key.user_id)]
    if key.thread_id:
        parts.append(f"t{key.thread_id}")
    if key.business_connection_id:
        parts.append(f"b{key.business_connection_id}")
    parts.append(key.destiny)
    return ":".join(parts)


class DatabaseStorage(BaseStorage):
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def _load(self, session: AsyncSession, key: StorageKey) -> DialogState:
        row = await session.get(DialogState, storage_key(key))
        if row is None:
            row = DialogState(key=storage_key(key), data={}, updated_at=self._clock.now())
        return row

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[tuple[AsyncSession, bool]]:
        """The update's session if one is running (never committed here), else a new one."""
        transaction = current_transaction()
        if transaction is not None:
            yield transaction.session, False
            return
        async with self._sessionmaker() as session:
            yield session, True

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as (session, own):
            row = await self._load(session, key)
            row.state, row.updated_at = value, self._clock.now()
            await self._store(session, row, commit=own)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as (session, _own):
            row = await session.get(DialogState, storage_key(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as (session, own):
            row = await self._load(session, key)
            row.data, row.updated_at = dict(data), self._clock.now()
            await self._store(session, row, commit=own)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as (session, _own):
            row = await session.get(DialogState, storage_key(key))
            return dict(row.data) if row else {}

    async def _store(self, session: AsyncSession, row: DialogState, *, commit: bool) -> None:
        if row.state is None and not row.data:
            existing = await session.get(DialogState, row.key)
            if existing is not None:
                await session.delete(existing)
        else:
            await session.merge(row)
        if commit:
            await session.commit()
        else:
            await session.flush()

    async def close(self) -> None:
        return None
