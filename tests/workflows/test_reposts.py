"""The repost task workflow called directly: a unit manager's task reaches their unit only
(forged ids included), bad deadlines and strangers change nothing, corrections are checked."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from governance.errors import Conflict, InvalidInput, PermissionDenied
from governance.reposts import ScopeKind, TargetStatus, TaskStatus
from governance.roles import Role
from models import people
from models.reposts import RepostTarget
from tests.e2e.seed import seed_account, seed_person, seed_unit
from workflows import reposts
from workflows.reposts import TaskDraft

pytestmark = pytest.mark.both_backends

ADMIN = 1001
TZ = ZoneInfo("Asia/Shanghai")


async def _office(sm, clock):  # type: ignore[no-untyped-def]
    now = clock.now()
    async with sm() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN, now=now)
        await session.commit()
    mine, theirs = await seed_unit(sm, "某街道办", now), await seed_unit(sm, "区教育局", now)
    manager = await seed_person(
        sm, telegram_id=4001, name="冯主任", unit_id=mine, roles=(Role.UNIT_MANAGER,), now=now
    )
    other = await seed_person(
        sm, telegram_id=4002, name="李老师", unit_id=theirs, roles=(Role.EDITOR,), now=now
    )
    accounts = [
        await seed_account(
            sm, admin_telegram_id=ADMIN, unit_id=unit, responsible_id=person, name=name, now=now
        )
        for unit, person, name in ((mine, manager, "街道发布"), (theirs, other, "教育发布"))
    ]
    async with sm() as session:
        actor = await people.actor_for(session, await people.get_user(session, manager))
        admin_user = await people.get_user_by_telegram_id(session, ADMIN)
        assert admin_user is not None
        admin = await people.actor_for(session, admin_user)
    return actor, admin, accounts


def _draft(clock, **changes):  # type: ignore[no-untyped-def]
    values = {
        "title": "关于做好医保缴费工作的通知",
        "link": "https://ybj.example.gov.cn/a/1.html",
        "text": "",
        "headline_counts": False,
        "deadline": clock.now() + timedelta(days=2),
        "scope": ScopeKind.ALL,
        "ids": (),
    }
    return TaskDraft(**{**values, **changes})


async def test_a_unit_managers_task_never_reaches_another_unit(sessionmaker, clock) -> None:
    manager, admin, (mine, theirs) = await _office(sessionmaker, clock)
    async with sessionmaker() as session:
        forged = _draft(clock, scope=ScopeKind.LIST, ids=(str(mine), str(theirs)))
        task, count = await reposts.create_task(
            session, actor=manager, draft=forged, now=clock.now(), tz=TZ
        )
        await session.commit()
        targets = list(await session.exec(select(RepostTarget)))
    assert count == 1 and [t.account_id for t in targets] == [mine]
    assert task.unit_id == manager.unit_id and task.link_key == "ybj.example.gov.cn/a/1.html"

    async with sessionmaker() as session:
        with pytest.raises(InvalidInput):  # only the other unit's account: nothing to assign
            await reposts.create_task(
                session,
                actor=manager,
                draft=_draft(clock, scope=ScopeKind.LIST, ids=(str(theirs),)),
                now=clock.now(),
                tz=TZ,
            )
        with pytest.raises(InvalidInput):
            await reposts.create_task(
                session,
                actor=admin,
                draft=_draft(clock, deadline=clock.now() - timedelta(hours=1)),
                now=clock.now(),
                tz=TZ,
            )
        with pytest.raises(Conflict):  # nothing matched yet: nothing to undo
            await reposts.undo_match(
                session, actor=admin, target_id=targets[0].id or 0, reason="误判", now=clock.now()
            )
        done = await reposts.confirm_by_hand(
            session,
            actor=admin,
            target_id=targets[0].id or 0,
            link="https://weibo.com/1/x",
            now=clock.now(),
        )
        assert done.status is TargetStatus.DONE
        ended = await reposts.close_task(
            session, actor=manager, task_id=task.id or 0, now=clock.now()
        )
        assert ended.status is TaskStatus.CLOSED
        with pytest.raises(Conflict):
            await reposts.close_task(session, actor=admin, task_id=task.id or 0, now=clock.now())


async def test_an_office_task_is_not_a_unit_managers_to_correct(sessionmaker, clock) -> None:
    manager, admin, _accounts = await _office(sessionmaker, clock)
    async with sessionmaker() as session:
        task, count = await reposts.create_task(
            session, actor=admin, draft=_draft(clock), now=clock.now(), tz=TZ
        )
        assert count == 2
        target = (await session.exec(select(RepostTarget))).first()
        assert target is not None
        with pytest.raises(PermissionDenied):
            await reposts.confirm_by_hand(
                session,
                actor=manager,
                target_id=target.id or 0,
                link="https://weibo.com/1/x",
                now=clock.now(),
            )
        with pytest.raises(PermissionDenied):
            await reposts.close_task(session, actor=manager, task_id=task.id or 0, now=clock.now())
