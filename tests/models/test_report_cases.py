"""The report's 整改 column counts the cases opened within the period, per account."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.roles import Role
from models import people
from models.cases import Case
from models.reports import case_counts
from tests.e2e.seed import seed_account, seed_person, seed_unit

pytestmark = pytest.mark.both_backends

ADMIN = 1001


async def test_case_counts_take_cases_opened_in_the_period_only(sessionmaker, clock) -> None:
    now = clock.now()
    async with sessionmaker() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN, now=now)
        await session.commit()
    unit = await seed_unit(sessionmaker, "某街道办", now)
    person = await seed_person(
        sessionmaker, telegram_id=4001, name="冯主任", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    account = await seed_account(
        sessionmaker,
        admin_telegram_id=ADMIN,
        unit_id=unit,
        responsible_id=person,
        name="街道发布",
        now=now,
    )
    async with sessionmaker() as session:
        for days in (-40, -10, -3, 5):  # before, inside twice, after the period
            opened = now + timedelta(days=days)
            session.add(
                Case(
                    account_id=account,
                    unit_id=unit,
                    kind="manual",
                    deadline=opened + timedelta(days=7),
                    opened_at=opened,
                    updated_at=opened,
                )
            )
        await session.commit()
        counts = await case_counts(
            session, account_ids=[account], start=now - timedelta(days=30), end=now
        )
    assert counts == {account: 2}
