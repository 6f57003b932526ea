"""One live account per platform id, decided by the database when two registrations race."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from governance.errors import Conflict
from governance.roles import Role
from models import accounts, people
from models.accounts import AccountDraft
from tests.e2e.seed import seed_account, seed_person, seed_unit
from workflows import registry

ADMIN = 1001


def _draft(unit: int, person: int, name: str) -> AccountDraft:
    return AccountDraft(
        platform="weibo",
        name=name,
        platform_ref="https://weibo.com/u/777",
        unit_id=unit,
        responsible_id=person,
        posts_per_week=2,
        necessity="发布政务信息，回应群众关切。",
        operating_plan="每周两条政务动态，办公室编辑，分管领导审核。",
        duplicate_reason="不同栏目分别运营（测试数据）",
    )


@pytest.mark.both_backends
async def test_the_loser_of_a_race_past_the_check_hears_who_holds_the_id(
    sessionmaker, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    async with sessionmaker() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN, now=now)
        await session.commit()
    unit = await seed_unit(sessionmaker, "某街道办", now)
    person = await seed_person(
        sessionmaker, telegram_id=4001, name="冯主任", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    winner = await seed_account(
        sessionmaker,
        admin_telegram_id=ADMIN,
        unit_id=unit,
        responsible_id=person,
        name="街道发布",
        ref="https://weibo.com/u/777",
        now=now,
    )

    async def passed(*_args: object, **_kw: object) -> None:  # the check ran before the winner
        return None

    monkeypatch.setattr(accounts, "ensure_platform_ref_free", passed)
    async with sessionmaker() as session:
        admin = await people.get_user_by_telegram_id(session, ADMIN)
        assert admin is not None
        actor = await people.actor_for(session, admin)
        with pytest.raises(Conflict) as refused:
            await registry.register(
                session,
                actor=actor,
                applicant=admin,
                draft=_draft(unit, person, "街道发布二"),
                now=now,
            )
        assert refused.value.params["id"] == winner
        assert refused.value.params["name"] == "街道发布"


@pytest.mark.both_backends
async def test_the_index_refuses_a_second_live_row_but_not_a_closed_one(
    sessionmaker, clock
) -> None:
    now = clock.now()
    async with sessionmaker() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN, now=now)
        await session.commit()
    unit = await seed_unit(sessionmaker, "某街道办", now)
    person = await seed_person(
        sessionmaker, telegram_id=4001, name="冯主任", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    first = await seed_account(
        sessionmaker,
        admin_telegram_id=ADMIN,
        unit_id=unit,
        responsible_id=person,
        name="街道发布",
        ref="https://weibo.com/u/777",
        now=now,
    )
    async with sessionmaker() as session:
        row = await accounts.get_account(session, first)
        clone = accounts.Account.model_validate(
            row.model_dump(exclude={"id", "submission_key"}) | {"name": "街道发布二"}
        )
        session.add(clone)
        with pytest.raises(IntegrityError) as clash:
            await session.flush()
        assert accounts.holds_live_ref(clash.value)
        await session.rollback()
    async with sessionmaker() as session:  # a closed account frees its platform id
        row = await accounts.get_account(session, first)
        row.status = accounts.AccountStatus.CLOSED
        await session.commit()
        clone = accounts.Account.model_validate(
            row.model_dump(exclude={"id", "submission_key"})
            | {"name": "街道发布二", "status": accounts.AccountStatus.ACTIVE}
        )
        session.add(clone)
        await session.commit()
