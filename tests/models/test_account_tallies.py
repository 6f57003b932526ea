"""The account tallies say what counting the registry would: after every kind of write, for
every scope /accounts can show, and after being broken by hand once reconciled."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, delete, func, select, update

from governance.registry import AccountStatus
from governance.roles import Actor, Role
from jobs.registry import reconcile_account_tallies
from models import tallies
from models.accounts import Account, AccountFilter, accounts_total, list_accounts
from models.people import Unit, User

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 12, 3, tzinfo=UTC)
PLATFORMS = ("wechat", "weibo", "douyin")
STATUSES = (AccountStatus.ACTIVE, AccountStatus.PENDING, AccountStatus.SUSPENDED)
UNITS = (1, 2, 3)


def _row(n: int, rng: random.Random) -> dict[str, Any]:
    return {
        "platform": rng.choice(PLATFORMS),
        "name": f"账号{n}",
        "platform_ref": f"r{n}",
        "platform_ref_norm": f"r{n}",
        "unit_id": rng.choice(UNITS),
        "responsible_id": 1,
        "posts_per_week": 1,
        "necessity": "n",
        "operating_plan": "p",
        "status": rng.choice(STATUSES).value,
        "created_by": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


async def _registry(sessionmaker: Any, rng: random.Random) -> None:
    """Units, a person, and accounts filed, edited, moved and removed every way the code and
    a hand-written fix would: ORM objects, a bulk insert, bulk updates, deletes."""
    async with sessionmaker() as session:
        session.add_all(Unit(id=u, name=f"单位{u}", created_at=NOW) for u in UNITS)
        await session.flush()
        session.add(User(id=1, telegram_id=1, name="人", unit_id=1, created_at=NOW, updated_at=NOW))
        await session.flush()
        session.add_all(Account(**_row(n, rng)) for n in range(30))
        await session.flush()
        await session.exec(sa.insert(Account), params=[_row(n, rng) for n in range(30, 90)])
        await session.commit()
    async with sessionmaker() as session:
        for account in (await session.exec(select(Account).where(col(Account.id) % 7 == 0))).all():
            account.status = rng.choice(STATUSES)
            account.unit_id = rng.choice(UNITS)
            account.name = account.name + "改"
        await session.exec(
            update(Account).where(col(Account.id) % 5 == 0).values(platform="douyin")
        )
        await session.exec(update(Account).where(col(Account.id) % 3 == 0).values(name="同名"))
        await session.exec(delete(Account).where(col(Account.id) % 11 == 0))
        await session.commit()
    async with sessionmaker() as session:  # a transaction that changes its mind
        await session.exec(update(Account).values(status=AccountStatus.CLOSED.value))
        await session.rollback()


ADMIN = Actor(user_id=1, unit_id=None, roles=frozenset({Role.ADMIN}))
EDITOR = Actor(user_id=1, unit_id=1, roles=frozenset({Role.EDITOR}))  # sees unit 1 only

Scope = tuple[Actor, AccountFilter]


def _scopes() -> list[Scope]:
    return [
        (actor, AccountFilter(unit_id=u, platform=p, status=s))
        for u, p, s, actor in itertools.product(
            (None, *UNITS),
            (None, *PLATFORMS),
            (None, *(s.value for s in STATUSES)),
            (ADMIN, EDITOR),
        )
    ]


async def _counted(session: Any, scope: Scope) -> int:
    actor, filters = scope
    stmt = select(func.count()).select_from(Account)
    for column, value in (
        (Account.unit_id, None if actor.is_admin else actor.unit_id),
        (Account.unit_id, filters.unit_id),
        (Account.platform, filters.platform),
        (Account.status, filters.status),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return int(await session.scalar(stmt) or 0)


async def test_every_scope_s_tally_equals_the_count_after_inserts_updates_and_deletes(
    sessionmaker: Any,
) -> None:
    await _registry(sessionmaker, random.Random(17))
    async with sessionmaker() as session:
        for scope in _scopes():
            assert await session.scalar(accounts_total(*scope)) == await _counted(session, scope)
        assert await tallies.reconcile(session) == 0


async def test_the_first_page_of_accounts_shows_the_tallied_total_for_admins_and_units(
    sessionmaker: Any,
) -> None:
    await _registry(sessionmaker, random.Random(3))
    admin = Actor(user_id=1, unit_id=None, roles=frozenset({Role.ADMIN}))
    editor = Actor(user_id=1, unit_id=2, roles=frozenset({Role.EDITOR}))
    async with sessionmaker() as session:
        for actor, filters in [
            (admin, AccountFilter()),
            (admin, AccountFilter(unit_id=3, status="active")),
            (editor, AccountFilter(platform="weibo")),
            (editor, AccountFilter(unit_id=1)),  # another unit's: nothing
        ]:
            page = await list_accounts(session, actor=actor, filters=filters, page_size=1000)
            assert page.total == len(page.rows)
        assert (
            await list_accounts(session, actor=editor, filters=AccountFilter(unit_id=1))
        ).total == 0


async def test_a_tally_broken_by_hand_is_corrected_by_the_reconcile_job_and_only_it(
    sessionmaker: Any,
) -> None:
    await _registry(sessionmaker, random.Random(5))
    async with sessionmaker() as session:
        rows = (
            await session.exec(select(tallies.AccountTally).order_by(col(tallies.AccountTally.n)))
        ).all()
        low, high = rows[0], rows[-1]
        await session.exec(
            update(tallies.AccountTally)
            .where(col(tallies.AccountTally.unit_id) == high.unit_id)
            .where(col(tallies.AccountTally.platform) == high.platform)
            .where(col(tallies.AccountTally.status) == high.status)
            .values(n=999)
        )
        await session.exec(
            delete(tallies.AccountTally)
            .where(col(tallies.AccountTally.unit_id) == low.unit_id)
            .where(col(tallies.AccountTally.platform) == low.platform)
            .where(col(tallies.AccountTally.status) == low.status)
        )
        await session.commit()

    assert await reconcile_account_tallies(sessionmaker=sessionmaker) == 1 + (low.n > 0)
    assert await reconcile_account_tallies(sessionmaker=sessionmaker) == 0
    async with sessionmaker() as session:
        for scope in _scopes():
            assert await session.scalar(accounts_total(*scope)) == await _counted(session, scope)
