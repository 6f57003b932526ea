"""Dialogs started in a group continue in private; racing registrations of one platform id."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.app import BotApp
from governance.roles import Role
from models.accounts import Account
from tests.conftest import ADMIN_ID, make_settings, start_bot
from tests.e2e.flows import AccountForm, fill_registration
from tests.e2e.seed import seed_person, seed_unit
from tests.fakes.telegram import FakeTelegram

ALERT_CHAT = -100777
MANAGER = 2001


async def _office(app: BotApp, clock) -> None:
    unit = await seed_unit(app.sessionmaker, "某区教育局", clock.now())
    await seed_person(
        app.sessionmaker,
        telegram_id=MANAGER,
        name="张科长",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    await seed_person(
        app.sessionmaker,
        telegram_id=2002,
        name="李老师",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )


@pytest.mark.both_backends
async def test_two_registrations_of_one_platform_id_at_once_leave_one_account(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin, manager = tg.user(ADMIN_ID, "王主任"), tg.user(MANAGER, "张科长")
    ours = await fill_registration(admin, AccountForm(unit="某区教育局"))
    theirs = await fill_registration(manager, AccountForm(name="教育发布"))  # both saw it free
    first, second = await asyncio.gather(
        admin.press(ours, "确认提交"), manager.press(theirs, "确认提交")
    )
    said = [c.text for c in first + second]
    assert sum("同一平台账号不能重复登记" in t for t in said) == 1, said
    assert sum("已登记（编号" in t or "已提交登记申请" in t for t in said) == 1, said
    async with app.sessionmaker() as session:
        rows = list(await session.exec(select(Account)))
    assert len(rows) == 1


async def test_a_dialog_button_pressed_in_the_alert_chat_continues_in_private(
    database_url: str, tg: FakeTelegram, clock
) -> None:
    app = await start_bot(tg, make_settings(database_url, tg.base, alert_chat_id=ALERT_CHAT), clock)
    try:
        await _office(app, clock)
        manager, admin = tg.user(MANAGER, "张科长"), tg.user(ADMIN_ID, "王主任")
        mark = tg.mark()
        await manager.press(await fill_registration(manager, AccountForm()), "确认提交")
        [card] = [c for c in await admin.inbox(since=mark) if "新的账号登记申请" in c.text]
        mark = tg.mark()
        in_group = await admin.in_group(ALERT_CHAT).press(card, "❌ 驳回")
        pointer = [c.text for c in in_group if c.method == "sendMessage"]
        assert pointer == ["王主任：请到与我的私聊中继续。"], pointer
        asked = await admin.inbox(since=mark)
        assert "请填写驳回“某区教育发布”的理由" in asked[-1].text
        done = await admin.send("名称不规范，请按“单位简称+用途”命名后重新登记。")
        assert "已驳回“某区教育发布”的登记申请" in done[-1].text
        async with app.sessionmaker() as session:
            [account] = list(await session.exec(select(Account)))
        assert account.status == "rejected"
        assert all("名称不规范" not in c.text for c in tg.sent_to(ALERT_CHAT))
    finally:
        await app.stop()
