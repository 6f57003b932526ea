"""Monitoring in chat: the card's activity section, /dormant (worst first, by unit), /monitor
(admins only) and /check (now, with a cooldown, clear refusals)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.roles import Role
from tests.conftest import ADMIN_ID
from tests.e2e.monitoring import drain_outbox, run_jobs
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram


async def seeded(app, clock, feeds: FeedServer) -> dict[str, int]:
    now = clock.now()
    edu = await seed_unit(app.sessionmaker, "某区教育局", now)
    street = await seed_unit(app.sessionmaker, "某街道办", now)
    teacher = await seed_person(
        app.sessionmaker,
        telegram_id=4001,
        name="李老师",
        unit_id=edu,
        roles=(Role.EDITOR,),
        now=now,
    )
    clerk = await seed_person(
        app.sessionmaker,
        telegram_id=4002,
        name="王干事",
        unit_id=street,
        roles=(Role.EDITOR,),
        now=now,
    )
    ages = {"fresh": 1, "stale": 20, "quiet": 9}
    ids = {}
    for name, days in ages.items():
        items = [
            FakeItem(
                f"{name} 第{k}条 <通知>",
                f"https://example.gov.cn/{name}/{k}",
                f"{name}{k}",
                now - timedelta(days=days + 3 * k),
            )
            for k in range(7)
        ]
        feeds.set_feed(name, items)
        unit, person = (street, clerk) if name == "quiet" else (edu, teacher)
        ids[name] = await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit,
            responsible_id=person,
            name=f"{name}号",
            feed_url=feeds.feed_url(name),
            now=now,
        )
    await run_jobs(app, clock)
    await drain_outbox(app)
    return ids


async def test_card_shows_activity_and_latest_posts(app, tg: FakeTelegram, feeds, clock) -> None:
    ids = await seeded(app, clock, feeds)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/accounts")
    card = (await admin.press(replies[-1], f"#{ids['stale']}"))[-1].text
    assert "更新监测" in card and "不更新（僵尸号）" in card
    assert "（20 天前）" in card and "近 7/30/90 天发布：0/4/7 条" in card
    assert "订阅源可用" in card and "最新发布" in card
    posts = card.split("内容问题")[0]  # the latest posts; the card's cases follow
    assert posts.count("• ") == 5 and "stale 第0条 &lt;通知&gt;" in card


@pytest.mark.both_backends
async def test_dormant_lists_worst_first_and_filters_by_unit(app, tg, feeds, clock) -> None:
    await seeded(app, clock, feeds)
    admin = tg.user(ADMIN_ID, "王主任")
    listing = (await admin.send("/dormant"))[-1]
    text = listing.text
    assert text.index("stale号") < text.index("quiet号") < text.index("fresh号")
    units = (await admin.press(listing, "按单位"))[-1]
    filtered = (await admin.press(units, "某街道办"))[-1].text
    assert "quiet号" in filtered and "stale号" not in filtered

    clerk = tg.user(4002, "王干事")
    own = (await clerk.send("/dormant"))[-1].text
    assert "quiet号" in own and "stale号" not in own  # only their own unit


async def test_monitor_is_for_admins_only(app, tg, feeds, clock) -> None:
    await seeded(app, clock, feeds)
    report = (await tg.user(ADMIN_ID, "王主任").send("/monitor"))[-1].text
    assert "监测中的账号：3" in report and "近 1 小时抓取：3 次" in report
    assert "待发送通知（outbox 积压）" in report
    refused = (await tg.user(4001, "李老师").send("/monitor"))[-1].text
    assert "只有管理员可以查看监测运行状况" in refused


async def test_check_polls_now_with_a_cooldown_and_clear_refusals(app, tg, feeds, clock) -> None:
    ids = await seeded(app, clock, feeds)
    teacher = tg.user(4001, "李老师")
    feeds.add_items("fresh", FakeItem("刚发布", "https://example.gov.cn/new", "new", clock.now()))
    result = (await teacher.send("/check fresh号"))[-1].text
    assert "检查结果：订阅源可用" in result and "新发现 1 条" in result
    again = (await teacher.send(f"/check {ids['fresh']}"))[-1].text
    assert "刚检查过，请 60 秒后再试" in again
    clock.advance(seconds=61)
    later = (await teacher.send(f"/check #{ids['fresh']}"))[-1].text
    assert "订阅源无更新" in later

    assert "用法：/check" in (await teacher.send("/check"))[-1].text
    assert "没有找到“不存在”对应的账号" in (await teacher.send("/check 不存在"))[-1].text
    # another unit's account is invisible to this person
    assert "没有找到" in (await teacher.send(f"/check {ids['quiet']}"))[-1].text
