"""Status columns hold plain strings but read and write as their enums; a misspelt value fails."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from governance.registry import AccountStatus, Platform
from governance.roles import Role
from models import people
from models.accounts import Account
from models.base import EnumString
from tests.e2e.seed import seed_account, seed_person, seed_unit

ADMIN = 1001


def test_the_type_stores_the_value_and_loads_the_member() -> None:
    column = EnumString(AccountStatus, 32)
    assert column.process_bind_param(AccountStatus.ACTIVE, None) == "active"
    assert column.process_bind_param("closed", None) == "closed"
    assert column.process_result_value("rectifying", None) is AccountStatus.RECTIFYING
    assert column.process_bind_param(None, None) is None
    with pytest.raises(ValueError):
        column.process_bind_param("actve", None)


async def test_rows_load_as_enums_and_a_misspelt_filter_is_refused(sessionmaker, clock) -> None:
    now = clock.now()
    async with sessionmaker() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN, now=now)
        await session.commit()
    unit = await seed_unit(sessionmaker, "某街道办", now)
    person = await seed_person(
        sessionmaker, telegram_id=4001, name="冯主任", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    account_id = await seed_account(
        sessionmaker,
        admin_telegram_id=ADMIN,
        unit_id=unit,
        responsible_id=person,
        name="街道发布",
        now=now,
    )
    async with sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        assert account.status is AccountStatus.ACTIVE and isinstance(account.platform, Platform)
        assert await people.roles_of(session, person) == frozenset({Role.EDITOR})
        with pytest.raises(StatementError):
            await session.exec(select(Account).where(Account.status == "actve"))
