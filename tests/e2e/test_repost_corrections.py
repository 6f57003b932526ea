"""Repost tasks in a unit: a unit manager starts one for their own unit's accounts only, the
unit's group robot hears the reminders, a false match is undone with a reason (and that post
is never matched again), a missed repost is confirmed by hand with its link; staff cannot
start tasks. Every change is in the task's audit record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from governance.clock import ManualClock
from governance.reposts import MatchMethod, TargetStatus
from governance.roles import Role
from jobs.reposts import repost_reminders
from models import robots as robot_channels
from models.audit import AuditEntry
from models.reposts import RepostTarget, RepostTask
from models.robots import RobotKind
from tests.conftest import ADMIN_ID
from tests.e2e.monitoring import run_jobs
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.e2e.test_cases import drained
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.robots import RobotServer
from tests.fakes.telegram import FakeTelegram
from workflows.reposts import match_post

MANAGER, EDITOR = 7101, 7102
TITLE = "关于做好2026年城乡居民医保缴费工作的通知"
LINK = "https://ybj.example.gov.cn/zwgk/2026-01/t2026010512.html"


@pytest.fixture
async def robots(clock: ManualClock) -> AsyncIterator[RobotServer]:
    async with RobotServer(clock=clock) as server:
        yield server


async def test_a_unit_managers_task_corrections_and_robot_reminders(
    app, tg: FakeTelegram, feeds: FeedServer, robots: RobotServer, clock: ManualClock
) -> None:
    sm, now = app.sessionmaker, clock.now()
    unit = await seed_unit(sm, "某街道办", now)
    other_unit = await seed_unit(sm, "区教育局", now)
    manager = await seed_person(
        sm, telegram_id=MANAGER, name="冯主任", unit_id=unit, roles=(Role.UNIT_MANAGER,), now=now
    )
    await seed_person(
        sm, telegram_id=EDITOR, name="小陈", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    outsider = await seed_person(
        sm, telegram_id=7103, name="李老师", unit_id=other_unit, roles=(Role.EDITOR,), now=now
    )
    accounts = []
    for i, (unit_id, person) in enumerate(((unit, manager),) * 3 + ((other_unit, outsider),)):
        old = FakeItem("旧闻", f"https://example.gov.cn/s{i}/0", f"s{i}-0", now)
        feeds.set_feed(f"s{i}", [old])
        accounts.append(
            await seed_account(
                sm,
                admin_telegram_id=ADMIN_ID,
                unit_id=unit_id,
                responsible_id=person,
                name=f"街道发布{i}",
                feed_url=feeds.feed_url(f"s{i}"),
                now=now,
            )
        )
    wecom = robots.wecom()
    async with sm() as session:
        await robot_channels.add_channel(
            session,
            kind=RobotKind.WECOM,
            name="街道工作群",
            unit_id=unit,
            webhook=wecom.webhook,
            secret=None,
            now=now,
            created_by=None,
        )
        await session.commit()
    await run_jobs(app, clock)
    await drained(app, tg)

    refused = await tg.user(EDITOR, "小陈").send("/tasks")
    assert "只有管理员和单位管理员可以管理转载任务" in refused[-1].text

    boss = tg.user(MANAGER, "冯主任")
    listing = (await boss.send("/tasks"))[-1]
    ask = (await boss.press(listing, "➕ 新建转载任务"))[-1]
    text_ask = (await boss.send(f"{TITLE}\n{LINK}"))[-1]
    assert "原文正文" in text_ask.text
    scope = (await boss.press(text_ask, "跳过"))[-1]
    assert "按单位" not in [b["text"] for b in scope.buttons]  # their own unit only
    deadline_ask = (await boss.press(scope, "全部账号"))[-1]
    assert "截止时间" in deadline_ask.text
    bad = (await boss.send("2020-01-01 18:00"))[-1]
    assert "截止时间已过" in bad.text
    headline_ask = (await boss.send("2026-01-07 18:00"))[-1]
    summary = (await boss.press(headline_ask, "不计为完成"))[-1]
    assert "账号：3 个，分属 1 个单位" in summary.text and "仅转标题：不计为完成" in summary.text
    await boss.press(summary, "✅ 确认发布")
    assert ask.text

    clock.advance(hours=7)
    shared = LINK + "?from=timeline"
    feeds.add_items("s0", FakeItem("【转发】" + TITLE, shared, "s0-1", clock.now()))
    feeds.add_items(  # a headline repost: this task does not accept it
        "s1", FakeItem(TITLE, "https://example.gov.cn/s1/1", "s1-1", clock.now())
    )
    feeds.add_items("s3", FakeItem(TITLE, LINK, "s3-1", clock.now()))  # not in the task
    await run_jobs(app, clock)
    async with sm() as session:
        task = (await session.exec(select(RepostTask))).one()
        targets = list(await session.exec(select(RepostTarget).order_by(col(RepostTarget.id))))
    assert task.unit_id == unit
    assert [t.account_id for t in targets] == accounts[:3]
    assert [t.status for t in targets] == [
        TargetStatus.DONE,
        TargetStatus.PENDING,
        TargetStatus.PENDING,
    ]
    assert targets[0].method is MatchMethod.LINK

    listing = (await boss.send("/tasks"))[-1]
    card = (await boss.press(listing, f"#1 {TITLE}"[:32]))[-1]
    assert "已转载 1，待转载 2" in card.text
    menu = (await boss.press(card, "✅ #" + str(accounts[0]) + " 街道发布0"))[-1]
    why = (await boss.press(menu, "撤销匹配"))[-1]
    assert "原因" in why.text
    undone = (await boss.send("转发的是旧版通知，链接已失效"))[-1]
    assert "已撤销匹配" in undone.text
    card = (await boss.press(undone, "返回任务"))[-1]
    assert "已转载 0，待转载 3" in card.text
    async with sm() as session:
        post_id = targets[0].post_id
        assert post_id is not None
        again = await match_post(
            session,
            account_id=accounts[0],
            post_id=post_id,
            title="【转发】" + TITLE,
            text="",
            link=LINK,
            published_at=clock.now(),
            now=clock.now(),
        )
        assert again == []  # the excluded post stays excluded

    menu = (await boss.press(card, "⏳ #" + str(accounts[2]) + " 街道发布2"))[-1]
    ask_link = (await boss.press(menu, "手工确认已转载"))[-1]
    assert "链接" in ask_link.text
    assert "网址" in (await boss.send("不是链接"))[-1].text
    confirmed = (await boss.send("https://weibo.com/123/AbCdE"))[-1]
    assert "已手工确认" in confirmed.text
    card = (await boss.press(confirmed, "返回任务"))[-1]
    assert "已转载 1，待转载 2" in card.text and "人工确认" in card.text
    record = (await boss.press(card, "📜 记录"))[-1]
    assert "转载任务 #1 的记录" in record.text
    assert "撤销匹配 · #" in record.text and "转发的是旧版通知" in record.text
    assert "冯主任 · 人工确认转载" in record.text

    clock.set(task.deadline - timedelta(hours=20))
    assert (
        await repost_reminders(sessionmaker=sm, clock=clock, settings=app.settings) == 2 * 2
    )  # two pending accounts: their responsible person and the unit's robot, each
    app.sender.wake()
    await robots.wait_for(wecom, 5)  # the 3 assignments came first
    said = [str(body) for body in wecom.received]
    assert all("新的转载任务" in text for text in said[:3])
    assert all("即将截止" in text for text in said[3:])
    async with sm() as session:
        actions = [
            e.action
            for e in await session.exec(
                select(AuditEntry)
                .where(AuditEntry.object_type == "repost_task")
                .order_by(col(AuditEntry.id))
            )
        ]
    assert actions == [
        "repost_task.created",
        "repost_target.matched",
        "repost_target.undone",
        "repost_target.confirmed",
        "repost_task.reminded",
    ]
    await drained(app, tg)

    card = (await boss.press(confirmed, "返回任务"))[-1]
    sure = (await boss.press(card, "结束任务"))[-1]
    assert "确定结束" in sure.text
    ended = (await boss.press(sure, "确定"))[-1]
    assert "（已结束）" in ended.text and "结束任务" not in [b["text"] for b in ended.buttons]
