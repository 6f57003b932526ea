"""The daily digest to the admins' chat and the weekly one to each unit's managers: what they
say after a day with a dormant account, a hacked post and a broken feed; once per period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.settings import Settings
from jobs.digest import daily_digest, weekly_digest
from models.outbox import OutboxMessage
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.monitoring import next_day, run_jobs
from tests.e2e.seed import seed_account
from tests.e2e.test_cases import drained, received
from tests.e2e.test_monitoring import ALERT_CHAT, MANAGER, RESPONSIBLE, STAFF, office
from tests.e2e.test_quality_alerts import HACKED
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    return make_settings(database_url, tg.base, alert_chat_id=ALERT_CHAT)


async def digests(app) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return list(await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "digest")))


@pytest.mark.both_backends
async def test_daily_and_weekly_digests_summarise_the_period_once(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_feed("acct", [FakeItem("旧文章", "https://example.gov.cn/a/1", "a1", clock.now())])
    feeds.set_feed("web", [FakeItem("网站动态", "https://example.gov.cn/w/0", "w0", clock.now())])
    feeds.set_feed("broken", [FakeItem("旧", "https://example.gov.cn/b/1", "b1", clock.now())])
    feeds.set_response("/feeds/broken", status=500, body="<html>HTTP 500</html>")
    unit, _dormant = await office(app, clock, feeds)
    async with app.sessionmaker() as session:
        from models.accounts import Account

        responsible_id = (await session.get(Account, _dormant)).responsible_id
    for name, feed in (("某区教育局网站", "web"), ("某区教育头条", "broken")):
        await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit,
            responsible_id=responsible_id,
            name=name,
            feed_url=feeds.feed_url(feed),
            now=clock.now(),
        )
    await run_jobs(app, clock)
    for day in range(1, 15):
        feeds.add_items(
            "web", FakeItem(f"动态{day}", f"https://example.gov.cn/w/{day}", f"w{day}", clock.now())
        )
        await next_day(app, clock)
    clock.advance(timedelta(hours=7))  # the next poll of the website
    feeds.add_items(
        "web", FakeItem("工作通报", "https://example.gov.cn/w/99", "w99", clock.now(), body=HACKED)
    )
    await run_jobs(app, clock)
    await drained(app, tg)

    clock.advance(timedelta(hours=16))  # 09:00 the next morning in Shanghai
    mark = tg.mark()
    assert (
        await daily_digest(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings) == 1
    )
    app.sender.wake()
    digest = await received(tg, ALERT_CHAT, "每日通报", since=mark)
    text = digest.text
    assert "每日通报（2026-01-20）" in text
    assert "昨日以来新发现问题" in text and "涉赌" in text and "单项否决" in text
    assert "新增不更新账号 1 个：某区教育发布" in text
    assert "整改：新开 2，办结 0，新逾期 0；在办 2（逾期 0）" in text
    assert "监测源异常 1 个" in text
    assert "低于承诺更新频率 1 个" in text
    assert "超时未审的送审稿 0 件" in text
    assert "110101199003071233" not in text
    assert len(text) < 700, "short enough for a phone"
    labels = {b["text"] for b in digest.buttons}
    assert {"整改清单", "不更新账号", "新问题", "监测源异常", "低于承诺"} <= labels

    # once per day, however often the job runs
    assert (
        await daily_digest(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings) == 0
    )

    # the buttons open the lists they summarise; pressed in the alert group by an admin, the
    # lists come to the admin in private
    admin = tg.user(ADMIN_ID, "王主任").in_group(ALERT_CHAT)

    async def pressed(label: str) -> str:
        mark = tg.mark()
        await admin.press(digest, label)
        return "\n".join(c.text for c in tg.sent_to(ADMIN_ID, since=mark))

    problems = await pressed("新问题")
    assert "涉赌" in problems and "某区教育局网站" in problems
    assert "某区教育头条" in await pressed("监测源异常")
    assert "某区教育发布" in await pressed("低于承诺")
    assert "某区教育发布" in await pressed("不更新账号")
    listing = await pressed("整改清单")
    assert "在办整改" in listing and "某区教育发布" in listing
    assert not [c for c in tg.sent_to(ALERT_CHAT, since=mark) if "在办整改" in c.text]

    # the weekly one goes to the unit's managers, about their unit
    mark = tg.mark()
    assert (
        await weekly_digest(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings) == 1
    )
    app.sender.wake()
    weekly = await received(tg, MANAGER, "周报", since=mark)
    assert "某区教育局周报（2026-W04）" in weekly.text and "近 7 天" in weekly.text
    assert "整改：新开 2" in weekly.text
    assert (
        await weekly_digest(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings) == 0
    )
    chats = {m.chat_id for m in await digests(app)}
    assert chats == {ALERT_CHAT, MANAGER}
    assert RESPONSIBLE not in chats and STAFF not in chats

    # a manager may open only their own unit's lists
    manager = tg.user(MANAGER, "张科长")
    mine = await manager.press(weekly, "监测源异常")
    assert any("某区教育头条" in c.text for c in mine)
    refused = await manager.press_data(weekly, "dd:feeds:0:1")
    assert any("只能查看本单位" in (c.params.get("text") or "") for c in refused)
