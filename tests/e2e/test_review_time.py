"""Time-driven review work (moving the clock, calling the jobs), restarts, delegation, routes
in chat, and the approver's queue."""

from __future__ import annotations

from sqlmodel import select

from bot.app import BotApp
from bot.scheduler import build_scheduler
from governance.review import StageRule
from jobs.reviews import review_expiry, review_reminders, review_route_check
from models.audit import AuditEntry
from models.reviews import Review, ReviewDecision
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.review_office import card, office, submit
from tests.fakes.telegram import FakeTelegram
from workflows.checker import LiveChecker

TEXT = "区教育局将于下周一召开家长会，请各校做好准备。"
ALERT_CHAT = -100555


async def _review(app) -> Review:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return (await session.exec(select(Review))).one()


async def test_reminders_at_half_and_deadline_then_escalation(app, tg: FakeTelegram, clock) -> None:
    app.settings.alert_chat_id = ALERT_CHAT
    o = await office(app, tg, clock, sla_hours=4)
    mark = tg.mark()
    number = await submit(o.editor, parts=[TEXT])
    await card(o.approvers[0], since=mark)
    jobs = {"sessionmaker": app.sessionmaker, "clock": clock, "settings": app.settings}
    assert await review_reminders(**jobs) == 0
    clock.advance(hours=2)
    mark = tg.mark()
    assert await review_reminders(**jobs) == 1
    assert await review_reminders(**jobs) == 0  # once only
    app.sender.wake()
    half = await o.approvers[0].inbox(since=mark)
    assert "已过半" in half[-1].text and number in half[-1].text
    clock.advance(hours=2)
    mark = tg.mark()
    await review_reminders(**jobs)
    app.sender.wake()
    due = await o.approvers[0].inbox(since=mark)
    assert "已到审核期限" in due[-1].text
    assert not tg.sent_to(o.manager.id, since=mark)
    clock.advance(hours=1, minutes=1)
    mark = tg.mark()
    await review_reminders(**jobs)
    app.sender.wake()
    told = await o.manager.inbox(since=mark)
    assert "超过审核期限" in told[-1].text and "孙初审" in told[-1].text
    alert = await tg.user(ADMIN_ID, "x").in_group(ALERT_CHAT).inbox(since=mark)
    assert number in alert[-1].text
    async with app.sessionmaker() as session:
        actions = [e.action for e in await session.exec(select(AuditEntry))]
    assert actions.count("review.escalated") == 1


async def test_scheduler_registers_the_review_jobs(settings, sessionmaker, clock) -> None:
    scheduler = build_scheduler(
        settings=settings, sessionmaker=sessionmaker, clock=clock, live_checker=LiveChecker()
    )
    scheduler.start(paused=True)
    try:
        for job_id, func in (
            ("review_reminders", review_reminders),
            ("review_expiry", review_expiry),
            ("review_route_check", review_route_check),
        ):
            job = scheduler.get_job(job_id)
            assert job is not None and job.func is func
            assert job.coalesce is True and job.max_instances == 1
            assert job.kwargs["settings"] is settings
    finally:
        scheduler.shutdown(wait=False)


async def test_planned_time_passing_undecided_expires_the_draft(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    # the clock is 2026-01-05 09:00 in Shanghai
    number = await submit(o.editor, parts=[TEXT], planned="2026-01-05 12:00")
    await card(o.approvers[0], since=mark)
    jobs = {"sessionmaker": app.sessionmaker, "clock": clock, "settings": app.settings}
    assert await review_expiry(**jobs) == []
    clock.advance(hours=3, minutes=1)
    mark = tg.mark()
    assert await review_expiry(**jobs) == [number]
    app.sender.wake()
    told = await o.editor.inbox(since=mark)
    assert "已过期" in told[-1].text
    edited = await tg.wait_for(
        lambda c: c.method == "editMessageText" and c.chat_id == o.approvers[0].id, since=mark
    )
    assert "已过期" in edited.text
    assert (await _review(app)).status == "expired"


async def test_cards_still_work_after_a_restart(app, tg: FakeTelegram, clock, settings) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    first = await card(o.approvers[0], since=mark)
    mark = tg.mark()
    await o.approvers[0].press(first, "通过")
    second = await card(o.approvers[1], since=mark)
    await app.stop()
    fresh = BotApp(make_settings(settings.database_url, tg.base), clock=clock, migrate=False)
    await fresh.start()
    try:
        mark = tg.mark()
        replies = await o.approvers[1].press(second, "通过")
        assert any("你已通过" in c.text for c in replies)
        third = await card(o.approvers[2], since=mark)
        replies = await o.approvers[2].press(third, "通过")
        async with fresh.sessionmaker() as session:
            review = (await session.exec(select(Review))).one()
            decisions = list(await session.exec(select(ReviewDecision)))
        assert review.status == "approved" and len(decisions) == 3
    finally:
        await fresh.stop()


async def test_delegate_reviews_and_the_record_names_both(app, tg: FakeTelegram, clock) -> None:
    o = await office(app, tg, clock, approvers=4)
    first = o.approvers[0]
    replies = await first.send("/delegate")
    replies = await first.press(replies[-1], "吴审核")
    replies = await first.press(replies[-1], "3 天")
    assert "已委托 吴审核" in replies[-1].text
    mark = tg.mark()
    number = await submit(o.editor, parts=[TEXT])
    stand_in = o.approvers[3]
    the_card = await card(stand_in, since=mark)
    assert "代 孙初审" in the_card.text
    assert not [c for c in tg.sent_to(first.id, since=mark) if c.buttons]
    await stand_in.press(the_card, "通过")
    replies = await o.editor.send(f"/review {number}")
    assert "吴审核（代 孙初审）" in replies[-1].text


async def test_routes_are_set_with_buttons_and_unsatisfiable_ones_refused(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock, approvers=2, stages=[("初审", [0], StageRule.ANY)])
    manager = o.manager
    replies = await manager.send("/routes")
    assert "初审" in replies[-1].text
    replies = await manager.press(replies[-1], "编辑单位流程")
    editor = replies[-1]
    replies = await manager.press(editor, "增加环节")
    replies = await manager.press(replies[-1], "2.审核人")
    replies = await manager.press(replies[-1], "本单位全部“审核人”")  # untick the role
    picker = replies[-1]
    replies = await manager.press(picker, "孙初审")  # the same person as stage 1
    replies = await manager.press(replies[-1], "完成")
    editor = replies[-1]
    replies = await manager.press(editor, "保存")
    answer = [c for c in replies if c.method == "answerCallbackQuery"][-1].params["text"]
    assert "审核人不足" in answer
    replies = await manager.press(editor, "2.审核人")
    replies = await manager.press(replies[-1], "孙初审")
    replies = await manager.press(replies[-1], "李复审")
    replies = await manager.press(replies[-1], "完成")
    replies = await manager.press(replies[-1], "2.时限")
    replies = await manager.send("8")
    replies = await manager.press(replies[-1], "保存")
    assert "审核流程已保存" in replies[-1].text and "李复审" in replies[-1].text
    # someone leaves: the route check reports it
    async with app.sessionmaker() as session:
        from models.people import User

        user = await session.get(User, o.ids[3101 + 1])
        assert user is not None
        user.active = False
        session.add(user)
        await session.commit()
    mark = tg.mark()
    jobs = {"sessionmaker": app.sessionmaker, "clock": clock, "settings": app.settings}
    assert await review_route_check(**jobs) >= 1
    assert await review_route_check(**jobs) == 0
    app.sender.wake()
    told = await manager.inbox(since=mark)
    assert "无法满足" in told[-1].text


async def test_pending_lists_the_queue_and_bulk_approves_opened_drafts(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    one = await submit(o.editor, parts=[TEXT], title="第一篇稿件")
    clock.advance(minutes=10)
    two = await submit(o.editor, parts=[TEXT + "补充"], title="第二篇稿件")
    approver = o.approvers[0]
    await approver.inbox(since=mark, count=4)
    replies = await approver.send("/pending")
    queue = replies[-1]
    assert "2 件" in queue.text and queue.text.index(one) < queue.text.index(two)
    assert "批量通过" not in str(queue.buttons)
    mark = tg.mark()
    replies = await approver.press(queue, f"查看 {one}")
    assert any(c.method == "copyMessage" for c in tg.calls[mark:])
    replies = await approver.send("/pending")
    assert "（已查看）" in replies[-1].text
    replies = await approver.press(replies[-1], "批量通过已查看的 1 件")
    assert one in replies[-1].text and two not in replies[-1].text
    async with app.sessionmaker() as session:
        reviews = {r.number: r for r in await session.exec(select(Review))}
    assert reviews[one].stage_index == 1 and reviews[two].stage_index == 0
