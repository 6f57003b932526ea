"""A page's counts are the same whichever form the count takes: the plain ``count(*)`` over a
filtered select's own FROM (which SQLite answers from the table's b-tree) or a subquery (kept
for grouped, distinct and limited selects)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, func, select

from models.paging import Cursor, Order, _count, _count_of, keyset_page
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


UNITS = Order(
    key=col(Unit.id), id=col(Unit.id), key_of=lambda u: u.id or 0, id_of=lambda u: u.id or 0
)


def _counting() -> tuple[list[str], Any]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "count(" in statement:
            seen.append(statement)

    return seen, before


async def test_a_page_turn_carries_the_total_instead_of_counting_the_list_again(
    sessionmaker: Any,
) -> None:
    async with sessionmaker() as session:
        await _seed(session)  # 7 units
        first = await keyset_page(session, select(Unit), order=UNITS, cursor=None, size=3)
        assert (first.total, first.before, [u.id for u in first.rows]) == (7, 0, [1, 2, 3])
        engine = session.bind
        seen, listener = _counting()
        sa.event.listen(engine.sync_engine, "before_cursor_execute", listener)
        try:
            assert first.last is not None
            turn = Cursor(key=first.last.key, id=first.last.id, total=first.total)
            second = await keyset_page(session, select(Unit), order=UNITS, cursor=turn, size=3)
        finally:
            sa.event.remove(engine.sync_engine, "before_cursor_execute", listener)
        assert (second.total, second.before, [u.id for u in second.rows]) == (7, 3, [4, 5, 6])
        assert len(seen) == 1, "only the rows before the page are counted, not the whole list"
        assert "WHERE" in seen[0]


async def test_a_carried_total_is_corrected_when_the_last_page_comes_early(
    sessionmaker: Any,
) -> None:
    async with sessionmaker() as session:
        await _seed(session)
        await session.exec(sa.delete(User))  # type: ignore[call-overload]
        first = await keyset_page(session, select(Unit), order=UNITS, cursor=None, size=3)
        assert first.last is not None
        await session.exec(sa.delete(Unit).where(col(Unit.id) >= 6))  # type: ignore[call-overload]
        turn = Cursor(key=first.last.key, id=first.last.id, total=first.total)
        second = await keyset_page(session, select(Unit), order=UNITS, cursor=turn, size=3)
        assert [u.id for u in second.rows] == [4, 5]
        assert (second.total, second.has_next) == (5, False), "no button to an empty page"
        assert first.total == 7
