"""A page's counts are the same whichever form the count takes: the plain ``count(*)`` over a
filtered select's own FROM (which SQLite answers from the table's b-tree) or a subquery (kept
for grouped, distinct and limited selects)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, func, select

from models.paging import _count, _count_of
from models.people import Unit, User

NOW = datetime(2026, 6, 1, tzinfo=UTC)

pytestmark = pytest.mark.both_backends


async def _seed(session: Any) -> None:
    session.add_all(
        Unit(id=n, name=f"单位{n}", parent_id=None if n <= 2 else 1 + n % 2, created_at=NOW)
        for n in range(1, 8)
    )
    await session.flush()
    session.add_all(
        User(telegram_id=100 + n, name=f"人{n}", unit_id=1 + n % 4, created_at=NOW, updated_at=NOW)
        for n in range(10)
    )
    await session.flush()


@pytest.mark.parametrize(
    "stmt",
    [
        select(Unit),
        select(Unit).where(col(Unit.parent_id) == 1),
        select(Unit).order_by(col(Unit.name)),
        select(User, Unit).join(Unit, col(Unit.id) == col(User.unit_id)),
        select(Unit, User).outerjoin(User, col(User.unit_id) == col(Unit.id)),
        select(col(User.unit_id)).group_by(col(User.unit_id)),
        select(col(User.unit_id)).distinct(),
        select(Unit).limit(3),
    ],
    ids=["plain", "filtered", "ordered", "joined", "outer", "grouped", "distinct", "limited"],
)
async def test_the_count_equals_the_rows_the_select_returns(sessionmaker: Any, stmt: Any) -> None:
    async with sessionmaker() as session:
        await _seed(session)
        rows = (await session.exec(stmt)).all()
        assert await _count(session, stmt) == len(rows)
        via_subquery = await session.scalar(select(func.count()).select_from(stmt.subquery()))
        assert via_subquery == len(rows)


def test_only_a_plain_select_is_counted_without_a_subquery() -> None:
    plain = str(_count_of(select(Unit).where(col(Unit.parent_id) == 1).order_by(col(Unit.id))))
    assert "FROM units" in plain and "ORDER BY" not in plain and "anon" not in plain
    grouped = _count_of(select(col(User.unit_id)).group_by(col(User.unit_id)))
    assert "anon" in str(grouped)
    assert isinstance(grouped, sa.Select)
