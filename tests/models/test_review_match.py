"""match_published_post called directly, as the poller will: idempotent, review-required only."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from governance.review import StageSpec
from governance.roles import Role
from models import people
from models.outbox import OutboxMessage
from models.review_match import MatchOutcome, ReviewFlag
from models.routes import save_route
from tests.e2e.seed import seed_account, seed_person, seed_unit
from workflows.reviews import published

ADMIN = 1001


async def _setup(sm, clock, *, require: bool | None):  # type: ignore[no-untyped-def]
    now = clock.now()
    async with sm() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN, now=now)
        await session.commit()
    unit = await seed_unit(sm, "某街道办", now)
    manager = await seed_person(
        sm, telegram_id=4001, name="冯主任", unit_id=unit, roles=(Role.UNIT_MANAGER,), now=now
    )
    approver = await seed_person(
        sm, telegram_id=4002, name="陈审核", unit_id=unit, roles=(Role.APPROVER,), now=now
    )
    account = await seed_account(
        sm, admin_telegram_id=ADMIN, unit_id=unit, responsible_id=manager, name="街道发布", now=now
    )
    if require is not None:
        async with sm() as session:
            admin = await people.get_user_by_telegram_id(session, ADMIN)
            assert admin is not None
            await save_route(
                session,
                actor=await people.actor_for(session, admin),
                unit_id=unit,
                account_id=None,
                stages=[StageSpec(name="初审", approver_ids=(approver,))],
                restart_from_first=True,
                require_review=require,
                version=None,
                now=now,
            )
            await session.commit()
    return account


async def _match(sm, clock, account: int, post_id: int = 1):  # type: ignore[no-untyped-def]
    async with sm() as session:
        result = await published.match_published_post(
            session,
            account_id=account,
            post_id=post_id,
            title="辖区道路施工公告",
            text="某路段将于下周封闭施工。",
            link="https://example.gov.cn/a/1",
            published_at=clock.now() - timedelta(hours=1),
            now=clock.now(),
        )
        await session.commit()
        return result


async def test_unreviewed_post_is_flagged_once_and_told_to_manager_and_admins(
    sessionmaker, clock
) -> None:
    account = await _setup(sessionmaker, clock, require=True)
    first = await _match(sessionmaker, clock, account)
    again = await _match(sessionmaker, clock, account)
    assert first.outcome is MatchOutcome.FLAGGED and again.outcome is MatchOutcome.FLAGGED
    async with sessionmaker() as session:
        flags = list(await session.exec(select(ReviewFlag)))
        notices = list(
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == "review.unreviewed")
            )
        )
    assert len(flags) == 1 and flags[0].title == "辖区道路施工公告"
    assert sorted(n.chat_id for n in notices) == [ADMIN, 4001]


async def test_units_without_required_review_are_not_flagged(sessionmaker, clock) -> None:
    account = await _setup(sessionmaker, clock, require=False)
    result = await _match(sessionmaker, clock, account)
    assert result.outcome is MatchOutcome.NOT_REQUIRED
    async with sessionmaker() as session:
        assert list(await session.exec(select(ReviewFlag))) == []
