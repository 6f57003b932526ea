"""Alembic environment: async engines, SQLModel metadata, batch mode for SQLite.

Before migrating, a database stamped with a pre-rename revision id is re-stamped with its new id
(see ``bot/migrations/__init__.py``). ``alembic revision`` names a new file and its id
``NNNN_slug`` after the current head, so the files stay in chain order.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import models
from bot.migrations import translate_legacy_revision

#: The advisory lock key that serialises migrations on PostgreSQL (any fixed number will do).
LOCK_KEY = 13_0001

config = context.config
target_metadata = models.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    return url or "sqlite+aiosqlite:///data/bot.db"


def _chain_order_id(context_: Any, revision: Any, directives: list[Any]) -> None:
    """``alembic revision -m "add foo"`` → ``0008_add_foo.py`` with revision id ``0008_add_foo``."""
    script = directives[0]
    heads = ScriptDirectory.from_config(config).get_heads()
    number = max((int(h.split("_", 1)[0]) for h in heads), default=0) + 1
    slug = re.sub(r"[^a-z0-9]+", "_", (script.message or "revision").lower()).strip("_")[:40]
    script.rev_id = f"{number:04d}_{slug}"


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        process_revision_directives=_chain_order_id,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one after another, never side by side.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        translate_legacy_revision(connection)
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (shared := config.attributes.get("connection")) is not None:
    # A caller that already holds a connection (tests, inside ``AsyncConnection.run_sync``).
    _run(shared)
else:
    asyncio.run(run_migrations_online())
