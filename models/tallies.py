"""How many accounts each unit has on each platform in each status (``account_tallies``).

The first page of /accounts says how many accounts the list holds. Counting them is a scan of
an index: 10-20 ms of the database's time for a national registry of 110,000 accounts, ten
times that for a million, on every list opened. The tally answers the same question from a
row per (unit, platform, status), a few thousand rows at most, whatever the registry's size.

The database keeps it: triggers on ``accounts`` (migration 0021) add and take one on every
insert, delete and change of unit, platform or status, in the writer's own transaction, so
no code path (the chat, an import, a hand-written SQL fix) can forget it. A migration that
rebuilds ``accounts`` (SQLite's batch mode copies the table) must recreate them.
:func:`reconcile` is the safety net behind them (a restored dump, triggers lost): it compares
the tally with a count of the registry and corrects the rows that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.roles import Actor

# the registry's columns a tally counts by, as stored (plain strings, not the model's enums)
_ACCOUNTS = sa.table("accounts", sa.column("unit_id"), sa.column("platform"), sa.column("status"))


class AccountTally(SQLModel, table=True):
    __tablename__ = "account_tallies"

    unit_id: int = Field(primary_key=True)
    platform: str = Field(primary_key=True, max_length=32)
    status: str = Field(primary_key=True, max_length=32)
    n: int = 0


@dataclass(frozen=True, slots=True)
class TallyScope:
    """Which accounts a count covers: the /accounts filters and the viewer's own unit."""

    unit_id: int | None = None
    platform: str | None = None
    status: str | None = None
    own_unit: int | None = None  # a non-admin sees their unit only


def scope_of(
    actor: Actor, *, unit_id: int | None, platform: str | None, status: str | None
) -> TallyScope:
    return TallyScope(
        unit_id=unit_id,
        platform=platform,
        status=status,
        own_unit=None if actor.is_admin else (actor.unit_id or -1),
    )


def within(stmt: Any, scope: TallyScope, *, unit: Any, platform: Any, status: Any) -> Any:
    """``stmt`` narrowed to ``scope``, by whichever columns hold unit, platform and status (the
    registry's for a page, the tally's for its total): one reading of the filters for both."""
    for column, value in (
        (unit, scope.own_unit),
        (unit, scope.unit_id),
        (platform, scope.platform or None),
        (status, scope.status or None),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def total_of(scope: TallyScope) -> sa.Select[tuple[int]]:
    """The number of accounts in ``scope``, as one statement (a sum over tally rows)."""
    stmt = select(func.coalesce(func.sum(AccountTally.n), 0))
    tally = AccountTally
    return within(  # type: ignore[no-any-return]
        stmt, scope, unit=tally.unit_id, platform=tally.platform, status=tally.status
    )


async def reconcile(session: AsyncSession) -> int:
    """Correct every tally row that differs from a count of the registry; how many did.

    Each correction recounts its own (unit, platform, status) in the statement that writes it,
    so an account filed between the comparison and the fix is counted too.
    """
    key = (_ACCOUNTS.c.unit_id, _ACCOUNTS.c.platform, _ACCOUNTS.c.status)
    grouped = await session.exec(select(*key, func.count()).group_by(*key))
    counted = {(u, p, s): n for u, p, s, n in grouped.all()}
    tallied = {
        (t.unit_id, t.platform, t.status): t.n for t in (await session.exec(select(AccountTally)))
    }
    wrong = {k for k in counted.keys() | tallied.keys() if counted.get(k, 0) != tallied.get(k, 0)}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = AccountTally.__table__  # type: ignore[attr-defined]
    for unit_id, platform, status in sorted(wrong):
        recount = (
            select(func.count())
            .select_from(_ACCOUNTS)
            .where(key[0] == unit_id, key[1] == platform, key[2] == status)
            .scalar_subquery()
        )
        await session.exec(
            insert(table)
            .values(unit_id=unit_id, platform=platform, status=status, n=0)
            .on_conflict_do_nothing(index_elements=["unit_id", "platform", "status"])
        )
        await session.exec(
            sa.update(table)
            .where(
                table.c.unit_id == unit_id, table.c.platform == platform, table.c.status == status
            )
            .values(n=recount)
        )
    return len(wrong)
