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

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import dialect_insert

# the registry's columns a tally counts by, as stored (plain strings, not the model's enums)
_ACCOUNTS = sa.table("accounts", sa.column("unit_id"), sa.column("platform"), sa.column("status"))


class AccountTally(SQLModel, table=True):
    __tablename__ = "account_tallies"

    unit_id: int = Field(primary_key=True)
    platform: str = Field(primary_key=True, max_length=32)
    status: str = Field(primary_key=True, max_length=32)
    n: int = 0


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
    insert = dialect_insert(session)
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
