"""Rectification cases end to end: the real bot, the feed server, the fake Bot API, and the
manual clock moved across deadlines (explained, overdue, 约谈, closure; resolved by monitoring)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.settings import Settings
from jobs.cases import check_cases
from models.accounts import Account
from models.audit import AuditEntry
from models.cases import Case
from models.outbox import OutboxMessage
from tests.conftest import ADMIN_ID, make_settings, start_bot
from tests.e2e.monitoring import drain_outbox, next_day, run_jobs
from tests.e2e.test_monitoring import MANAGER, RESPONSIBLE, STAFF, office
from tests.e2e.test_quality_alerts import HACKED
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import Call, FakeTelegram


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    return make_settings(database_url, tg.base)  # no alert chat: admins hear in private


async def sweep(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    result = await check_cases(
        sessionmaker=app.sessionmaker, clock=app.clock, settings=app.settings
    )
    app.sender.wake()
    return result


async def drained(app, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    """Everything queued went out and arrived: replies that follow are not mixed with it."""
    await drain_outbox(app)
    await tg.settle()


async def the_case(app) -> Case:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return (await session.exec(select(Case).order_by(col(Case.id).desc()))).first()


async def account_status(app, account_id: int) -> str:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return account.status


async def received(tg: FakeTelegram, chat_id: int, phrase: str, *, since: int) -> Call:
    """The first message to ``chat_id`` after ``since`` that says ``phrase`` (waits for it)."""
    return await tg.wait_for(
        lambda c: c.method == "sendMessage" and c.chat_id == chat_id and phrase in c.text,
        since=since,
    )


async def go_dormant(app, tg: FakeTelegram, feeds: FeedServer, clock):  # type: ignore[no-untyped-def]
    feeds.set_feed(
        "acct",
        [
            FakeItem(
                "招生工作会议", "https://example.gov.cn/a/1", "a1", clock.now() - timedelta(hours=1)
            )
        ],
    )
    unit, account_id = await office(app, clock, feeds)
    await run_jobs(app, clock)
    mark = tg.mark()
    for _day in range(14):
        await next_day(app, clock)
    return unit, account_id, mark


@pytest.mark.both_backends
async def test_dormant_account_case_is_explained_escalates_to_interview_and_closure(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    _unit, account_id, mark = await go_dormant(app, tg, feeds, clock)
    responsible = tg.user(RESPONSIBLE, "李老师")
    notice = await received(tg, RESPONSIBLE, "整改通知", since=mark)
    assert "某区教育发布" in notice.text and "不更新" in notice.text
    case = await the_case(app)
    assert case.status == "open" and case.level == 0
    # opened Monday 2026-01-19 09:00 local: five working days end with Monday 01-26
    assert "2026-01-26" in notice.text
    assert await account_status(app, account_id) == "rectifying"

    # the evaluation runs again and again: still one case, one notice
    await next_day(app, clock, days=0.1)
    async with app.sessionmaker() as session:
        assert len(list(await session.exec(select(Case)))) == 1

    # a too-short explanation is refused and changes nothing; a real one is filed
    await responsible.press(notice, "✍️ 提交整改说明")
    refused = await responsible.send("好")
    assert "至少需要 5 个字" in refused[-1].text
    assert (await the_case(app)).status == "open"
    mark = tg.mark()
    done = await responsible.send("已安排专人负责，本周起恢复每周两次更新。")
    assert "整改说明已提交" in done[-1].text
    assert (await the_case(app)).status == "explained"
    admin = tg.user(ADMIN_ID, "王主任")
    await received(tg, ADMIN_ID, "已提交整改说明", since=mark)

    # an explanation is not a fix: the deadline passes, the unit manager is asked to hold a 约谈
    case = await the_case(app)
    clock.set(case.deadline - timedelta(minutes=1))
    assert await sweep(app) == (0, 0)
    clock.set(case.deadline + timedelta(minutes=1))
    mark = tg.mark()
    assert await sweep(app) == (0, 1)
    manager = tg.user(MANAGER, "张科长")
    suggestion = await received(tg, MANAGER, "建议单位对责任人进行约谈", since=mark)
    await received(tg, RESPONSIBLE, "整改逾期", since=mark)
    case = await the_case(app)
    assert (case.status, case.level) == ("overdue", 1)
    assert await sweep(app) == (0, 0)  # nothing twice

    # the staff member may not record it; the manager does
    outsider = tg.user(STAFF, "旁观者")
    refused = await outsider.press_data(
        suggestion, suggestion.button("🗣 记录约谈")["callback_data"]
    )
    assert any("只有本单位管理员" in (c.params.get("text") or "") for c in refused)
    await manager.press(suggestion, "🗣 记录约谈")
    mark = tg.mark()
    done = await manager.send("1月28日上午约谈责任人李老师，要求两日内恢复更新。")
    assert "约谈情况已记录" in done[-1].text
    await received(tg, ADMIN_ID, "单位已约谈责任人", since=mark)

    # the second deadline passes too: the admins are asked to close the account
    clock.set(case.deadline + timedelta(minutes=1))
    mark = tg.mark()
    assert await sweep(app) == (0, 1)
    recommendation = await received(tg, ADMIN_ID, "建议关停", since=mark)
    assert "第二次逾期" in recommendation.text
    assert await sweep(app) == (0, 0)

    # closing asks for the 停更公告 link; a bad one changes nothing
    await admin.press(recommendation, "⛔ 确认关停")
    refused = await admin.send("停更公告已发")
    assert "http://" in refused[-1].text
    assert await account_status(app, account_id) == "rectifying"
    done = await admin.send("https://example.gov.cn/notice/stop-1")
    assert "已确认关停" in done[-1].text
    assert await account_status(app, account_id) == "closed"
    case = await the_case(app)
    assert case.status == "closed" and case.notice_url == "https://example.gov.cn/notice/stop-1"
    assert case.closed_at == clock.now()

    record = await admin.press(done[-1], "📜 整改记录")
    assert all(
        phrase in record[-1].text
        for phrase in ("发起整改", "提交整改说明", "整改逾期", "记录约谈", "王主任", "张科长")
    )

    async with app.sessionmaker() as session:
        actions = [
            a
            for a in await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id)))
            if a.startswith("case.") or a in {"account.rectifying", "account.closed"}
        ]
    assert actions == [
        "case.opened",
        "account.rectifying",
        "case.explained",
        "case.overdue",
        "case.interviewed",
        "case.overdue",
        "account.closed",
        "case.closed",
    ]


async def test_dormant_case_resolves_itself_when_the_account_posts_again(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    _unit, account_id, _mark = await go_dormant(app, tg, feeds, clock)
    assert (await the_case(app)).status == "open"
    feeds.add_items(
        "acct", FakeItem("开学安全提示", "https://example.gov.cn/a/2", "a2", clock.now())
    )
    mark = tg.mark()
    await next_day(app, clock, days=0.5)
    case = await the_case(app)
    assert case.status == "resolved" and case.active_key is None
    assert await account_status(app, account_id) == "active"
    for person in (RESPONSIBLE, MANAGER):
        assert "恢复更新" in (await received(tg, person, "整改办结", since=mark)).text

    # dormant again later: a new case
    for _day in range(15):
        await next_day(app, clock)
    async with app.sessionmaker() as session:
        statuses = [c.status for c in await session.exec(select(Case).order_by(col(Case.id)))]
    assert statuses == ["resolved", "open"]


async def test_veto_findings_open_one_case_resolved_when_an_admin_waives_them(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_feed("acct", [FakeItem("动态", "https://example.gov.cn/a/1", "a1", clock.now())])
    _unit, account_id = await office(app, clock, feeds)
    await run_jobs(app, clock)
    for n in (2, 3):  # the same spam twice: one case
        clock.advance(timedelta(hours=7))
        feeds.add_items(
            "acct",
            FakeItem(
                "工作通报", f"https://example.gov.cn/a/{n}", f"a{n}", clock.now(), body=HACKED
            ),
        )
        await run_jobs(app, clock)
    async with app.sessionmaker() as session:
        rows = list(await session.exec(select(Case)))
    assert len(rows) == 1 and rows[0].kind == "content"
    problems = rows[0].problems
    assert {p["category"] for p in problems} >= {"gambling", "pii"}
    assert all("110101199003071233" not in str(p) for p in problems)

    await drained(app, tg)
    admin = tg.user(ADMIN_ID, "王主任")
    listing = (await admin.send("/cases"))[-1]
    assert "某区教育局" in listing.text and "单项否决内容问题" in listing.text
    card = (await admin.press(listing, f"#{rows[0].id} 某区教育发布"))[-1]
    waivers = [b["text"] for b in card.buttons if b["text"].startswith("豁免")]
    assert len(waivers) == len(problems)
    for label in waivers:
        await admin.press(card, label)
        refused = await admin.send("否")
        assert "至少需要 2 个字" in refused[-1].text
        reply = await admin.send("经核实为历史转载内容，已由网站方删除。")
        assert "问题已豁免" in reply[-1].text
    case = await the_case(app)
    assert case.status == "resolved"
    assert await account_status(app, account_id) == "active"


async def test_manual_case_from_the_account_card_and_permissions(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_feed("acct", [FakeItem("动态", "https://example.gov.cn/a/1", "a1", clock.now())])
    _unit, account_id = await office(app, clock, feeds)
    await run_jobs(app, clock)

    outsider = tg.user(STAFF, "旁观者")
    card = (await outsider.press_data((await outsider.send("/accounts"))[-1], f"ao:{account_id}"))[
        -1
    ]
    assert "📋 发起整改" not in [b["text"] for b in card.buttons]
    refused = await outsider.press_data(card, f"cn:{account_id}")
    assert any("只有管理员和本单位管理员" in (c.params.get("text") or "") for c in refused)

    manager = tg.user(MANAGER, "张科长")
    card = (await manager.press_data((await manager.send("/accounts"))[-1], f"ao:{account_id}"))[-1]
    assert "整改：无。" in card.text
    await manager.press(card, "📋 发起整改")
    mark = tg.mark()
    done = await manager.send("评论区留言三个月未回复，请建立留言办理机制。")
    assert "已发起整改" in done[-1].text
    notice = await received(tg, RESPONSIBLE, "整改通知", since=mark)
    assert "评论区留言" in notice.text and "人工发起" in notice.text
    # one open manual case per account
    await manager.press(card, "📋 发起整改")
    again = await manager.send("再发起一次试试看。")
    assert "已有人工发起的整改在办" in again[-1].text

    # only the responsible person explains
    refused = await outsider.press(notice, "✍️ 提交整改说明")
    assert any("只有该账号的责任人" in (c.params.get("text") or "") for c in refused)

    # monitoring cannot see this problem: an admin confirms it fixed
    admin = tg.user(ADMIN_ID, "王主任")
    case = await the_case(app)
    card = (await admin.press_data(notice, f"co:{case.id}"))[-1]
    await admin.press(card, "✅ 确认已整改")
    done = await admin.send("已建立留言办理台账，积压留言全部答复。")
    assert "整改已办结" in done[-1].text
    assert (await the_case(app)).status == "resolved"
    account_card = (await admin.press_data(done[-1], f"ao:{account_id}"))[-1]
    assert f"#{case.id}" in account_card.text and "已整改" in account_card.text

    async with app.sessionmaker() as session:
        kinds = {
            m.kind for m in await session.exec(select(OutboxMessage)) if m.kind.startswith("case.")
        }
    assert kinds == {"case.opened", "case.resolved"}


async def test_closing_the_account_from_its_card_ends_its_cases(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    _unit, account_id, _mark = await go_dormant(app, tg, feeds, clock)
    await drained(app, tg)
    admin = tg.user(ADMIN_ID, "王主任")
    card = (await admin.press_data((await admin.send("/accounts"))[-1], f"ao:{account_id}"))[-1]
    assert "整改：" in card.text and "🟠待整改" in card.text
    await admin.press(card, "⛔ 关停")
    await admin.send("单位撤并，账号停止运营。")
    assert await account_status(app, account_id) == "closed"
    assert await sweep(app) == (0, 0)
    case = await the_case(app)
    assert case.status == "closed" and case.active_key is None


async def test_closure_pressed_in_the_admins_group_is_asked_and_answered_in_private(
    database_url: str, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    from tests.e2e.test_monitoring import ALERT_CHAT

    app = await start_bot(tg, make_settings(database_url, tg.base, alert_chat_id=ALERT_CHAT), clock)
    try:
        _unit, account_id, _mark = await go_dormant(app, tg, feeds, clock)
        for _miss in range(2):
            clock.set((await the_case(app)).deadline + timedelta(minutes=1))
            mark = tg.mark()
            await sweep(app)
        recommendation = await received(tg, ALERT_CHAT, "建议关停", since=mark)
        await drained(app, tg)
        admin = tg.user(ADMIN_ID, "王主任")
        mark = tg.mark()
        await admin.in_group(ALERT_CHAT).press(recommendation, "⛔ 确认关停")
        await received(tg, ADMIN_ID, "停更公告的链接", since=mark)
        done = await admin.send("https://example.gov.cn/notice/stop-2")
        assert "已确认关停" in done[-1].text
        assert await account_status(app, account_id) == "closed"
    finally:
        await app.stop()
