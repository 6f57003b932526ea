"""The poller closes the review loop: posts after the route existed are matched or flagged;
the account's archive from before is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from governance.review import StageSpec
from governance.roles import Role
from models import people
from models.review_match import ReviewFlag
from models.routes import save_route
from tests.conftest import ADMIN_ID
from tests.e2e.monitoring import run_jobs
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram


@pytest.mark.both_backends
async def test_poller_flags_posts_published_without_review_but_not_the_archive(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    sm, now = app.sessionmaker, clock.now()
    feeds.set_feed(
        "acct",
        [FakeItem("去年的旧闻", "https://example.gov.cn/a/0", "a0", now - timedelta(days=30))],
    )
    unit = await seed_unit(sm, "某街道办", now)
    manager = await seed_person(
        sm, telegram_id=4001, name="冯主任", unit_id=unit, roles=(Role.UNIT_MANAGER,), now=now
    )
    approver = await seed_person(
        sm, telegram_id=4002, name="陈审核", unit_id=unit, roles=(Role.APPROVER,), now=now
    )
    await seed_account(
        sm,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=manager,
        name="街道发布",
        feed_url=feeds.feed_url("acct"),
        now=now,
    )
    async with sm() as session:
        admin = await people.get_user_by_telegram_id(session, ADMIN_ID)
        assert admin is not None
        await save_route(
            session,
            actor=await people.actor_for(session, admin),
            unit_id=unit,
            account_id=None,
            stages=[StageSpec(name="初审", approver_ids=(approver,))],
            restart_from_first=True,
            require_review=True,
            version=None,
            now=now,
        )
        await session.commit()

    await run_jobs(app, clock)  # the first poll imports the archive: nothing is flagged
    async with sm() as session:
        assert list(await session.exec(select(ReviewFlag))) == []

    clock.advance(hours=7)
    feeds.add_items(
        "acct", FakeItem("辖区道路施工公告", "https://example.gov.cn/a/1", "a1", clock.now())
    )
    mark = tg.mark()
    await run_jobs(app, clock)
    async with sm() as session:
        [flag] = list(await session.exec(select(ReviewFlag)))
    assert flag.title == "辖区道路施工公告"
    told = await tg.wait_for(lambda c: c.chat_id == 4001 and "未经审核发布" in c.text, since=mark)
    assert "辖区道路施工公告" in told.text
