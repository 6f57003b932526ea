"""Monitoring end to end: the real bot, the local feed server, the fake Bot API, and the manual
clock moved day by day (never sleeping for time to pass)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.settings import Settings
from governance.roles import Role
from models import outbox
from models.audit import AuditEntry
from models.outbox import OutboxMessage
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.monitoring import next_day, run_jobs
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram

ALERT_CHAT = -1009000
RESPONSIBLE, MANAGER, STAFF = 3001, 3002, 3003
CASE_NOTICES = ("📋 整改通知", "✅ 整改办结")


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    return make_settings(database_url, tg.base, alert_chat_id=ALERT_CHAT)


async def office(app, clock, feeds: FeedServer, *, feed: str = "acct", name: str = "某区教育发布"):
    """A unit with a manager and a responsible person, and one account polling ``feed``."""
    now = clock.now()
    unit = await seed_unit(app.sessionmaker, "某区教育局", now)
    responsible = await seed_person(
        app.sessionmaker,
        telegram_id=RESPONSIBLE,
        name="李老师",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=now,
    )
    await seed_person(
        app.sessionmaker,
        telegram_id=MANAGER,
        name="张科长",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=now,
    )
    await seed_person(
        app.sessionmaker,
        telegram_id=STAFF,
        name="旁观者",
        unit_id=unit,
        roles=(Role.APPROVER,),
        now=now,
    )
    account = await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=responsible,
        name=name,
        feed_url=feeds.feed_url(feed),
        now=now,
    )
    return unit, account


def texts_by_chat(tg: FakeTelegram, since: int) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for call in tg.calls[since:]:
        if call.method == "sendMessage" and call.chat_id is not None:
            if call.text.startswith(CASE_NOTICES):
                continue  # rectification cases have their own tests (test_cases.py)
            out[call.chat_id].append(call.text)
    return dict(out)


async def deliveries(tg: FakeTelegram, since: int, expected: int) -> dict[int, list[str]]:
    """Wait until ``expected`` messages went out after ``since`` and nothing more follows."""
    if expected:
        await tg.wait_for(
            lambda c: (
                sum(
                    1
                    for x in tg.calls[since:]
                    if x.method == "sendMessage" and not x.text.startswith(CASE_NOTICES)
                )
                >= expected
            ),
            since=since,
        )
    await tg.settle()
    return texts_by_chat(tg, since)


@pytest.mark.both_backends
async def test_silent_account_warns_at_day_7_escalates_at_day_14_repeats_and_recovers(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_feed(
        "acct",
        [
            FakeItem(
                "区教育局召开招生工作会议",
                "https://example.gov.cn/a/1",
                "a1",
                clock.now() - timedelta(hours=1),
            )
        ],
    )
    _, account_id = await office(app, clock, feeds)
    tick, _ = await run_jobs(app, clock)
    assert tick.polled == 1 and tick.new_posts == 1

    expected = {
        7: {RESPONSIBLE: "更新预警"},
        10: {RESPONSIBLE: "第 2 次提醒"},
        13: {RESPONSIBLE: "第 3 次提醒"},
        14: {RESPONSIBLE: "僵尸号", MANAGER: "僵尸号", ALERT_CHAT: "僵尸号"},
        17: {RESPONSIBLE: "第 2 次提醒", MANAGER: "第 2 次提醒", ALERT_CHAT: "第 2 次提醒"},
    }
    for day in range(1, 18):
        mark = tg.mark()
        await next_day(app, clock)
        wanted = expected.get(day, {})
        got = await deliveries(tg, mark, len(wanted))
        assert set(got) == set(wanted), (day, got)
        for chat, phrase in wanted.items():
            assert len(got[chat]) == 1, (day, got)
            assert phrase in got[chat][0], (day, got[chat][0])
            assert "某区教育发布" in got[chat][0] and "某区教育局" in got[chat][0]
            assert f"已 {day} 天未更新" in got[chat][0]
            assert "区教育局召开招生工作会议" in got[chat][0]
    assert STAFF not in texts_by_chat(tg, 0)

    # The account posts again: one recovery notice to everyone who heard the dormant alert.
    feeds.add_items(
        "acct", FakeItem("新学期开学安全提示", "https://example.gov.cn/a/2", "a2", clock.now())
    )
    mark = tg.mark()
    await next_day(app, clock, days=0.5)
    got = await deliveries(tg, mark, 3)
    assert set(got) == {RESPONSIBLE, MANAGER, ALERT_CHAT}
    assert all("已恢复更新" in t[0] and "新学期开学安全提示" in t[0] for t in got.values())

    # Nothing more while the account stays active.
    mark = tg.mark()
    await next_day(app, clock)
    assert await deliveries(tg, mark, 0) == {}

    async with app.sessionmaker() as session:
        changes = list(
            await session.exec(
                select(AuditEntry.after)
                .where(AuditEntry.action == "account.activity_changed")
                .order_by(col(AuditEntry.id))
            )
        )
    assert [c["activity"] for c in changes] == ["warning", "dormant", "active"]
    assert account_id


async def test_broken_feed_alerts_admins_and_never_counts_as_dormancy(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_feed("broken", [FakeItem("旧文章", "https://example.gov.cn/b/1", "b1", clock.now())])
    feeds.set_response("/feeds/broken", status=500, body="<html>HTTP 500</html>")
    await office(app, clock, feeds, feed="broken")
    await run_jobs(app, clock)

    seen: dict[int, list[str]] = defaultdict(list)
    for _day in range(20):
        mark = tg.mark()
        await next_day(app, clock)
        await tg.settle()
        for chat, texts in texts_by_chat(tg, mark).items():
            seen[chat] += texts
    alerts = seen[ALERT_CHAT]
    assert alerts and "监测源异常" in alerts[0] and "服务器错误" in alerts[0]
    assert all("监测源异常" in text for text in alerts)  # first alert and its 3-day repeats
    assert 5 <= len(alerts) <= 8
    assert RESPONSIBLE not in seen and MANAGER not in seen  # no dormancy alert, nobody else

    # The feed works again: the admins hear it recovered, and dormancy is computed from the
    # item dates as usual (the only post is 21 days old: dormant now).
    del feeds.canned["/feeds/broken"]
    mark = tg.mark()
    await next_day(app, clock)
    got = await deliveries(tg, mark, 4)
    assert any("监测源恢复" in t for t in got[ALERT_CHAT])
    assert "僵尸号" in got[RESPONSIBLE][0] and "僵尸号" in got[MANAGER][0]


async def test_outbox_sender_honours_429_retry_after(app, tg: FakeTelegram, clock) -> None:
    tg.fail_next("sendMessage", code=429, retry_after=5)
    async with app.sessionmaker() as session:
        await outbox.enqueue(
            session,
            chat_id=ALERT_CHAT,
            kind="invitation.accepted",
            params={"who": "测试", "unit": "", "role": "editor"},
            now=clock.now(),
            dedup_key="t429",
        )
        await session.commit()
    mark = tg.mark()
    app.sender.wake()
    await tg.wait_for(lambda c: c.method == "sendMessage", since=mark)
    await tg.settle()
    assert len([c for c in tg.calls[mark:] if c.method == "sendMessage"]) == 1  # the 429 only
    async with app.sessionmaker() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        assert row.status == "pending"
        assert row.next_attempt_at == clock.now() + timedelta(seconds=5)

    clock.advance(seconds=5)
    app.sender.wake()
    delivered = await tg.wait_for(
        lambda c: c.method == "sendMessage" and isinstance(c.result, dict), since=mark
    )
    assert delivered.chat_id == ALERT_CHAT and "测试" in delivered.text
    await tg.settle()
    async with app.sessionmaker() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        assert row.status == "sent" and row.attempts == 1
