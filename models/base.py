"""Shared column types and the metadata Alembic migrates."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    Stored as naive UTC so that SQLite (which has no time zones) and PostgreSQL compare the same
    way; a naive value handed in is refused rather than guessed.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


E = TypeVar("E", bound=StrEnum)


def enum_column(length: int = 32) -> sa.String:
    """Enums are stored as short strings: no native enum types to migrate on PostgreSQL."""
    return sa.String(length)


class EnumString(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a VARCHAR; loaded back as the enum member.

    The column stays a plain ``VARCHAR(length)`` (the schema and the migrations do not change),
    but Python code sees the enum: a value outside the enum is refused when written or
    compared, so a misspelt status fails at once instead of matching nothing.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 32) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        if value is None:
            return None
        return self.enum(value)


async def begin_writing(session: AsyncSession) -> None:
    """Open the session's transaction holding SQLite's write lock (``BEGIN IMMEDIATE``).

    A job that opens a savepoint, reads, then writes would otherwise start a deferred
    transaction at the savepoint; if another connection (the outbox sender) commits before the
    first write, SQLite cannot upgrade the stale snapshot and fails at once with "database is
    locked" (the busy timeout does not apply). Taking the lock first makes the writer wait its
    turn instead. A no-op on PostgreSQL.
    """
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
