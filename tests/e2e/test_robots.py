"""Group robots in an office's day: an admin adds a WeCom and a DingTalk robot in chat, tests
them, and the dormancy alert, the veto finding and the daily digest reach both, signed, within
the platforms' limits, with the responsible person @-mentioned by the mobile they gave."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.settings import Settings
from governance.clock import ManualClock
from jobs.digest import daily_digest
from models.audit import AuditEntry
from models.people import User
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.monitoring import next_day, run_jobs
from tests.e2e.seed import seed_account
from tests.e2e.test_cases import drained
from tests.e2e.test_monitoring import ALERT_CHAT, RESPONSIBLE, office
from tests.e2e.test_quality_alerts import HACKED
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.robots import FakeRobot, RobotServer
from tests.fakes.telegram import Call, FakeTelegram, FakeUser

MOBILE = "13800138000"


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    return make_settings(database_url, tg.base, alert_chat_id=ALERT_CHAT)


@pytest.fixture
async def robots(clock: ManualClock) -> AsyncIterator[RobotServer]:
    async with RobotServer(clock=clock) as server:
        yield server


async def add_channel(admin: FakeUser, kind_label: str, robot: FakeRobot, name: str) -> list[Call]:
    replies = await admin.send("/channels")
    replies = await admin.press(replies[-1], "➕ 添加渠道")
    replies = await admin.press(replies[-1], "政务公开办（全局）")
    replies = await admin.press(replies[-1], kind_label)
    assert "Webhook" in replies[-1].text
    replies = await admin.send(robot.webhook)
    if robot.secret is not None:
        assert "加签" in replies[-1].text
        replies = await admin.send(robot.secret)
    replies = await admin.send(name)
    assert "已添加渠道" in replies[-1].text, replies[-1].text
    return replies


def _text(body: dict[str, Any]) -> str:
    if body.get("msgtype") == "markdown":
        markdown = body["markdown"]
        return str(markdown.get("content") or markdown.get("text"))
    if body.get("msgtype") == "text":
        return str(body["text"]["content"])
    return str(body["content"]["text"])


def _mentions(body: dict[str, Any]) -> list[str]:
    if body.get("msgtype") == "text":
        return list(body["text"].get("mentioned_mobile_list", []))
    return list(body.get("at", {}).get("atMobiles", []))


def _find(robot: FakeRobot, phrase: str) -> dict[str, Any]:
    found = [b for b in robot.received if phrase in _text(b)]
    assert found, f"{phrase!r} not in {[_text(b)[:40] for b in robot.received]}"
    return found[0]


@pytest.mark.both_backends
async def test_alerts_reach_wecom_and_dingtalk_groups_signed_and_mentioning_the_responsible(
    app, tg: FakeTelegram, feeds: FeedServer, robots: RobotServer, clock: ManualClock
) -> None:
    feeds.set_feed("acct", [FakeItem("旧文章", "https://example.gov.cn/a/1", "a1", clock.now())])
    feeds.set_feed("web", [FakeItem("网站动态", "https://example.gov.cn/w/0", "w0", clock.now())])
    unit, dormant = await office(app, clock, feeds)
    async with app.sessionmaker() as session:
        from models.accounts import Account

        responsible_id = (await session.get(Account, dormant)).responsible_id
    await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=responsible_id,
        name="某区教育局网站",
        feed_url=feeds.feed_url("web"),
        now=clock.now(),
    )

    # the responsible person gives their mobile for @-mentions; it is shown only masked
    person = tg.user(RESPONSIBLE, "李老师")
    replies = await person.send(f"/mobile {MOBILE}")
    assert "138****8000" in replies[-1].text and MOBILE not in replies[-1].text
    async with app.sessionmaker() as session:
        assert (await session.get(User, responsible_id)).mobile == MOBILE

    admin = tg.user(ADMIN_ID, "王主任")
    wecom, ding = robots.wecom(), robots.dingtalk()
    await add_channel(admin, "企业微信群机器人", wecom, "办公室企业微信群")
    replies = await add_channel(admin, "钉钉自定义机器人", ding, "办公室钉钉群")
    overview = replies[-1]
    assert wecom.token not in overview.text and ding.secret not in overview.text
    assert "办公室企业微信群" in overview.text and "办公室钉钉群" in overview.text
    # the messages that carried the webhook and the secret were deleted from the chat
    deleted = [c for c in tg.calls if c.method == "deleteMessage"]
    assert len(deleted) >= 3

    await admin.press(overview, "测试 #1")
    await admin.press(overview, "测试 #2")
    await robots.wait_for(wecom, 1)
    await robots.wait_for(ding, 1)
    assert "测试消息" in _text(wecom.received[0]) and "测试消息" in _text(ding.received[0])

    # fourteen days without a post: the account is dormant (僵尸号)
    await run_jobs(app, clock)
    for day in range(1, 15):
        feeds.add_items(
            "web", FakeItem(f"动态{day}", f"https://example.gov.cn/w/{day}", f"w{day}", clock.now())
        )
        await next_day(app, clock)
    # a veto-level post on the website
    clock.advance(timedelta(hours=7))
    feeds.add_items(
        "web", FakeItem("工作通报", "https://example.gov.cn/w/99", "w99", clock.now(), body=HACKED)
    )
    await run_jobs(app, clock)
    await drained(app, tg)
    clock.advance(timedelta(hours=16))
    assert (
        await daily_digest(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings) == 3
    )
    app.sender.wake()
    await robots.wait_for(wecom, 4)
    await robots.wait_for(ding, 4)
    await drained(app, tg)

    for robot in (wecom, ding):
        dormancy = _find(robot, "某区教育发布")
        veto = _find(robot, "单项否决")
        digest = _find(robot, "每日通报")
        assert _mentions(dormancy) == [MOBILE] and _mentions(veto) == [MOBILE]
        assert _mentions(digest) == []
        assert "110101199003071233" not in str(robot.received)
        assert robot.rate_limited == 0 and robot.bad_signatures == 0
    assert "@" + MOBILE in _text(_find(ding, "单项否决"))

    async with app.sessionmaker() as session:
        actions = [a.action for a in await session.exec(select(AuditEntry))]
    assert actions.count("robot_channel.add") == 2 and actions.count("robot_channel.test") == 2
    assert "user.mobile" in actions
    audit_text = str([(a.before, a.after) for a in await _audit(app)])
    assert wecom.token not in audit_text and (ding.secret or "") not in audit_text
    assert MOBILE not in audit_text


async def _audit(app) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return list(await session.exec(select(AuditEntry)))


async def test_pause_resume_and_delete_in_chat_and_unit_managers_see_only_their_unit(
    app, tg: FakeTelegram, feeds: FeedServer, robots: RobotServer, clock: ManualClock
) -> None:
    await office(app, clock, feeds)
    admin = tg.user(ADMIN_ID, "王主任")
    wecom = robots.wecom()
    replies = await add_channel(admin, "企业微信群机器人", wecom, "办公室群")
    replies = await admin.press(replies[-1], "暂停 #1")
    assert "已暂停" in replies[-1].text
    replies = await admin.press(replies[-1], "测试 #1")
    replies = await admin.send("/channels")
    replies = await admin.press(replies[-1], "恢复 #1")
    assert "启用" in replies[-1].text
    replies = await admin.press(replies[-1], "删除 #1")
    assert "还没有渠道" in replies[-1].text
    from tests.e2e.test_monitoring import MANAGER, STAFF

    manager = tg.user(MANAGER, "张科长")
    replies = await manager.send("/channels")
    assert "还没有渠道" in replies[-1].text
    staff = tg.user(STAFF, "旁观者")
    replies = await staff.send("/channels")
    assert "只有管理员和单位管理员" in replies[-1].text
    await drained(app, tg)
    assert wecom.received == []
