"""Pooled PostgreSQL connections are pinged only after sitting idle: one the server killed
meanwhile is replaced before use; one back from use a moment ago goes straight to work, and if
it died all the same, that one statement fails as a disconnect and the pool starts afresh."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot import db


async def _backend(engine: sa.ext.asyncio.AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(database_url: str, pid: int) -> None:
    killer = db.create_engine(database_url)
    try:
        async with killer.connect() as conn:
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
@pytest.mark.parametrize("idle_for_long", [True, False])
async def test_a_connection_the_server_killed_in_the_pool_is_replaced(
    database_url: str, idle_for_long: bool
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("pings are for PostgreSQL's pooled connections")
    engine = db.create_engine(database_url, ping_idle=0.0 if idle_for_long else 3600.0)
    try:
        killed = await _backend(engine)
        await _terminate(database_url, killed)
        if not idle_for_long:  # not pinged: its statement fails, and only that one
            with pytest.raises(sa.exc.DBAPIError) as failed:
                await _backend(engine)
            assert failed.value.connection_invalidated
        assert await _backend(engine) != killed
    finally:
        await engine.dispose()
