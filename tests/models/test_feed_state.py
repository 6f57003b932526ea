"""Poll state follows the registry where accounts are written, in the same transaction: the poll
tick no longer compares every account with every state, so a registered, approved, edited,
suspended or imported account must be (or stop being) claimable without waiting for anything.
The periodic reconcile is the safety net for writes past those paths."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import ManualClock
from governance.registry import AccountStatus
from governance.roles import Actor, Role
from jobs.poll import reconcile_feed_states
from models import accountchanges, feeds, ledger, people
from models.accounts import Account, AccountDraft, register_account
from models.feeds import FeedState
from tests.e2e.seed import seed_person, seed_unit
from tests.models.test_ledger import line, xlsx_table

pytestmark = pytest.mark.both_backends

ADMIN, MANAGER = 7001, 7002
LEASE = timedelta(minutes=15)


async def _office(sm: async_sessionmaker[AsyncSession], clock: ManualClock) -> dict[str, int]:
    now = clock.now()
    unit = await seed_unit(sm, "某街道办", now)
    await seed_person(
        sm, telegram_id=ADMIN, name="管理员", unit_id=None, roles=(Role.ADMIN,), now=now
    )
    await seed_person(
        sm, telegram_id=MANAGER, name="管理员2", unit_id=unit, roles=(Role.UNIT_MANAGER,), now=now
    )
    person = await seed_person(
        sm, telegram_id=7003, name="责任人", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    return {"unit": unit, "person": person}


async def _actor(session: AsyncSession, telegram_id: int) -> Actor:
    user = await people.get_user_by_telegram_id(session, telegram_id)
    assert user is not None
    return await people.actor_for(session, user)


async def _register(
    sm: async_sessionmaker[AsyncSession],
    office: dict[str, int],
    clock: ManualClock,
    *,
    by: int = ADMIN,
    ref: str = "jd_fabu",
    feed_url: str | None = "https://rsshub.example.gov.cn/weibo/1",
) -> int:
    async with sm() as session:
        account = await register_account(
            session,
            actor=await _actor(session, by),
            draft=AccountDraft(
                platform="weibo",
                name="街道发布",
                platform_ref=ref,
                unit_id=office["unit"],
                responsible_id=office["person"],
                posts_per_week=2,
                necessity="发布政务信息，回应群众关切。",
                operating_plan="每周两条政务动态，办公室编辑，分管领导审核。",
                feed_url=feed_url,
                duplicate_reason="不同栏目分别运营（测试数据）",
            ),
            now=clock.now(),
        )
        await session.commit()
        assert account.id is not None
        return account.id


async def _claimable(sm: async_sessionmaker[AsyncSession], clock: ManualClock) -> list[int]:
    """Claim what is due now (as a tick does), release it, and say which accounts it was."""
    async with sm() as session:
        claimed = await feeds.claim_due(
            session, now=clock.now(), lease=LEASE, limit=100, token="probe"
        )
        await feeds.release(session, token="probe")
        await session.commit()
    return sorted(c.account_id for c in claimed)


async def _state(sm: async_sessionmaker[AsyncSession], account_id: int) -> FeedState | None:
    async with sm() as session:
        return await session.get(FeedState, account_id)


async def test_a_registered_account_is_due_at_once_and_one_without_a_feed_gets_no_state(
    sessionmaker, clock
) -> None:
    office = await _office(sessionmaker, clock)
    account = await _register(sessionmaker, office, clock)
    feedless = await _register(sessionmaker, office, clock, ref="jd_2", feed_url=None)
    state = await _state(sessionmaker, account)
    assert state is not None and state.next_poll_at == clock.now()
    assert state.feed_url == "https://rsshub.example.gov.cn/weibo/1"
    assert await _state(sessionmaker, feedless) is None
    assert await _claimable(sessionmaker, clock) == [account]


async def test_a_pending_registration_is_polled_from_its_approval(sessionmaker, clock) -> None:
    office = await _office(sessionmaker, clock)
    account = await _register(sessionmaker, office, clock, by=MANAGER)
    assert await _state(sessionmaker, account) is None
    assert await _claimable(sessionmaker, clock) == []
    clock.advance(hours=1)
    async with sessionmaker() as session:
        await accountchanges.decide_registration(
            session,
            account_id=account,
            approve=True,
            actor=await _actor(session, ADMIN),
            now=clock.now(),
        )
        await session.commit()
    state = await _state(sessionmaker, account)
    assert state is not None and state.next_poll_at == clock.now()
    assert await _claimable(sessionmaker, clock) == [account]


async def test_a_changed_feed_url_drops_the_old_validators_and_is_due_at_once(
    sessionmaker, clock
) -> None:
    office = await _office(sessionmaker, clock)
    account = await _register(sessionmaker, office, clock)
    async with sessionmaker() as session:
        state = await session.get(FeedState, account)
        assert state is not None
        state.etag, state.next_poll_at = '"v7"', clock.now() + timedelta(hours=6)
        state.last_success_at = clock.now()
        session.add(state)
        await session.commit()
    assert await _claimable(sessionmaker, clock) == []
    async with sessionmaker() as session:
        await accountchanges.update_field(
            session,
            account_id=account,
            field="feed_url",
            value="https://rsshub.example.gov.cn/weibo/2",
            actor=await _actor(session, ADMIN),
            now=clock.now(),
        )
        await session.commit()
    state = await _state(sessionmaker, account)
    assert state is not None and state.feed_url == "https://rsshub.example.gov.cn/weibo/2"
    assert state.etag is None and state.last_success_at is None
    assert state.next_poll_at == clock.now()
    assert await _claimable(sessionmaker, clock) == [account]


async def test_a_suspended_or_feedless_account_leaves_the_poll_at_once_and_resumes_with_its_state(
    sessionmaker, clock
) -> None:
    office = await _office(sessionmaker, clock)
    account = await _register(sessionmaker, office, clock)
    other = await _register(sessionmaker, office, clock, ref="jd_2")
    async with sessionmaker() as session:
        admin = await _actor(session, ADMIN)
        await accountchanges.change_status(
            session,
            account_id=account,
            target=AccountStatus.SUSPENDED,
            actor=admin,
            now=clock.now(),
            reason="机构调整，暂停运营",
        )
        await accountchanges.update_field(
            session, account_id=other, field="feed_url", value=None, actor=admin, now=clock.now()
        )
        await session.commit()
    assert await _claimable(sessionmaker, clock) == []
    async with sessionmaker() as session:
        await accountchanges.change_status(
            session,
            account_id=account,
            target=AccountStatus.ACTIVE,
            actor=await _actor(session, ADMIN),
            now=clock.now(),
        )
        await session.commit()
    assert await _claimable(sessionmaker, clock) == [account]


async def test_a_ledger_import_gives_its_polled_accounts_state_and_its_updates_follow(
    sessionmaker, clock
) -> None:
    await _office(sessionmaker, clock)
    feed = "https://rsshub.example.gov.cn/wechat/{}"
    unit, person = "某区教育局", "李老师"
    rows = [
        line(unit, "微信公众号", "教育发布", "jy_fabu", person, 订阅源地址=feed.format(1)),
        line("某区教育局", "微博", "教育微博", "jy_wb", "李老师"),  # no feed
        line(
            "某区教育局",
            "抖音",
            "教育抖音",
            "jy_dy",
            "李老师",
            订阅源地址=feed.format(3),
            状态="暂停",
            状态说明="人员调整",
        ),
    ]
    async with sessionmaker() as session:
        admin = await _actor(session, ADMIN)
        result = await ledger.import_ledger(
            session, actor=admin, table=xlsx_table(rows), now=clock.now(), invite_ttl=LEASE
        )
        await session.commit()
        assert result.imported
        ids = {a.platform_ref: a.id for a in result.accounts}
    assert await _claimable(sessionmaker, clock) == [ids["jy_fabu"]]
    rows[0] = line(unit, "微信公众号", "教育发布", "jy_fabu", person, 订阅源地址=feed.format(9))
    rows[2] = line(unit, "抖音", "教育抖音", "jy_dy", person, 订阅源地址=feed.format(3))
    clock.advance(minutes=5)
    async with sessionmaker() as session:
        applied = await ledger.import_ledger(
            session,
            actor=await _actor(session, ADMIN),
            table=xlsx_table(rows),
            now=clock.now(),
            invite_ttl=LEASE,
            apply_updates=True,
        )
        await session.commit()
        assert len(applied.updated) == 2
    moved = await _state(sessionmaker, ids["jy_fabu"] or 0)
    assert moved is not None and moved.feed_url == feed.format(9)
    assert moved.next_poll_at == clock.now()
    assert await _claimable(sessionmaker, clock) == sorted([ids["jy_fabu"], ids["jy_dy"]])


async def test_an_account_written_past_the_write_paths_is_caught_by_the_reconcile_job(
    sessionmaker, clock
) -> None:
    office = await _office(sessionmaker, clock)
    now = clock.now()
    async with sessionmaker() as session:
        await session.exec(  # type: ignore[call-overload]
            sa.insert(Account).values(
                platform="weibo",
                name="手工录入",
                platform_ref="by_hand",
                platform_ref_norm="by_hand",
                unit_id=office["unit"],
                responsible_id=office["person"],
                posts_per_week=1,
                necessity="测试",
                operating_plan="测试",
                feed_url="https://rsshub.example.gov.cn/weibo/by_hand",
                status=AccountStatus.ACTIVE.value,
                created_by=office["person"],
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
        await session.commit()
    assert await _claimable(sessionmaker, clock) == []  # the tick does not scan the registry
    assert await reconcile_feed_states(sessionmaker=sessionmaker, clock=clock) == 1
    assert len(await _claimable(sessionmaker, clock)) == 1
    assert await reconcile_feed_states(sessionmaker=sessionmaker, clock=clock) == 0
