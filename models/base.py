"""Shared column types and the metadata Alembic migrates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
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


def _aware(value: datetime) -> datetime:
    """The UTC column types take aware datetimes only: a naive one is refused, not guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    Stored as naive UTC so that SQLite (which has no time zones) and PostgreSQL compare the same
    way; a naive value handed in is refused rather than guessed.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else _aware(value).astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


#: :class:`UTCSeconds` counts from here; a signed 32-bit count reaches 1931-12-13 .. 2068-01-19.
SECONDS_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_INT32 = (-(2**31), 2**31 - 1)


class UTCSeconds(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as whole seconds since 2000 in a 32-bit integer.

    For the big tables (posts): 4 bytes instead of PostgreSQL's 8 and SQLite's 26-character
    text, in the row and again in every index over the column. Sub-second parts are dropped
    (floored); a moment outside 1931..2068 is clamped to the nearest end, so a feed's absurd
    date is kept as "very old" or "far future" rather than refused. Comparisons with a datetime
    bind through this type; never compare the column with a :class:`UTCDateTime` column in SQL.
    """

    impl = sa.Integer
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> int | None:
        if value is None:
            return None
        # aware arithmetic: no conversion that could overflow for a year-1 date in UTC+8
        seconds = (_aware(value) - SECONDS_EPOCH) // timedelta(seconds=1)
        return min(max(seconds, _INT32[0]), _INT32[1])

    def process_result_value(self, value: int | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return SECONDS_EPOCH + timedelta(seconds=int(value))


class GB18030Text(TypeDecorator[str]):
    """Text stored as GB18030 bytes: two bytes a Chinese character where UTF-8 takes three,
    one for ASCII, and every Unicode character representable (four bytes beyond the BMP).

    For columns only ever read back and compared whole in Python (a post's title and
    author): the database sees bytes, so never filter, sort or search on them in SQL. A lone
    surrogate (never valid text) is stored as ``?``.
    """

    impl = sa.LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return value.encode("gb18030", errors="replace")

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return bytes(value).decode("gb18030", errors="replace")


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


def dialect_insert(session: AsyncSession) -> Callable[[Any], postgresql.Insert | sqlite.Insert]:
    """The session's dialect's INSERT, the one with ``ON CONFLICT`` (both spell it alike)."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert
