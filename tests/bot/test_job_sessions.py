"""The scheduled jobs' transactions commit without waiting for the disk on PostgreSQL; the
chat's, the outbox sender's and /check's stay durable."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot import db
from models.replicas import HandledUpdate


@pytest.mark.both_backends
async def test_only_the_jobs_sessions_give_up_waiting_for_the_disk(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        for durable, expected in ((True, "on"), (False, "off")):
            async with db.make_sessionmaker(engine, durable=durable)() as session:
                rows = await session.exec(select(HandledUpdate))  # sqlmodel's API works as usual
                assert list(rows) == []
                if database_url.startswith("postgresql"):
                    connection = await session.connection()
                    mode = await connection.execute(sa.text("SHOW synchronous_commit"))
                    assert mode.scalar_one() == expected
    finally:
        await engine.dispose()
