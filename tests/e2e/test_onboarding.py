"""The issue's acceptance path through chat: an admin invites a unit manager, who registers an
account that the admin approves, every step written to the audit log."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from models.accounts import Account
from models.audit import AuditEntry
from tests.conftest import ADMIN_ID
from tests.e2e.flows import AccountForm, create_unit, fill_registration, invite_link, join
from tests.fakes.feeds import FeedServer
from tests.fakes.telegram import FakeTelegram


@pytest.mark.both_backends
async def test_invited_manager_registers_account_that_admin_approves_with_full_audit(
    app, tg: FakeTelegram, feeds: FeedServer
) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    manager = tg.user(2001, "张科长")
    teacher = tg.user(2002, "李老师")

    await admin.send("/start")
    await create_unit(admin, "某区教育局")
    link = invite_link_ = await invite_link(admin, "某区教育局", "单位管理员")
    assert "gov_media_test_bot" in link

    mark = tg.mark()
    joined = await join(manager, invite_link_)
    assert "你已加入“某区教育局”" in joined[-1].text
    assert "单位管理员" in joined[-1].text
    notice = await admin.inbox(since=mark)
    assert "张科长 已通过你的邀请加入" in notice[-1].text

    # the manager invites the future responsible person (an editor) without typing ids
    teacher_link = await invite_link(manager, None, "编辑")
    await join(teacher, teacher_link)

    form = AccountForm(feed_url=feeds.feed_url("rss"))
    summary = await fill_registration(manager, form)
    assert "某区教育发布" in summary.text and "李老师" in summary.text
    assert "订阅源检查通过" in summary.text

    mark = tg.mark()
    replies = await manager.press(summary, "确认提交")
    assert "等待管理员审核" in replies[-1].text
    card = (await admin.inbox(since=mark))[-1]
    assert "新的账号登记申请" in card.text and "张科长" in card.text

    mark = tg.mark()
    replies = await admin.press(card, "通过")
    assert "已由你审核通过" in replies[-1].text
    told = await manager.inbox(since=mark)
    assert "审核通过" in told[-1].text
    assigned = await teacher.inbox(since=mark)
    assert "责任人" in assigned[-1].text

    async with app.sessionmaker() as session:
        account = (await session.exec(select(Account))).one()
        assert account.status == "active"
        assert account.feed_url == feeds.feed_url("rss")
        actions = [
            e.action for e in await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        ]
    for expected in (
        "unit.created",
        "invitation.created",
        "invitation.accepted",
        "account.applied",
        "account.approved",
    ):
        assert expected in actions, actions
