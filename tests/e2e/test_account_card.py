"""The registry list and the account card: pages, filters, edits, responsible person, lifecycle."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from governance.roles import Role
from models.accounts import Account
from models.audit import AuditEntry
from tests.conftest import ADMIN_ID
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.telegram import FakeTelegram


async def _registry(app, clock, count: int = 3) -> tuple[int, int, int]:
    unit = await seed_unit(app.sessionmaker, "某区文旅局", clock.now())
    first = await seed_person(
        app.sessionmaker,
        telegram_id=5001,
        name="陈编辑",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    second = await seed_person(
        app.sessionmaker,
        telegram_id=5002,
        name="林编辑",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    for n in range(count):
        await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit,
            responsible_id=first,
            name=f"文旅号{n:02d}",
            platform="douyin" if n % 2 else "weibo",
            now=clock.now(),
        )
    return unit, first, second


async def test_accounts_list_pages_and_filters(app, tg: FakeTelegram, clock) -> None:
    await _registry(app, clock, count=11)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/accounts")
    page = replies[-1]
    assert "共 11 个" in page.text and "第 1–8 条" in page.text
    assert "文旅号00" in page.text and "文旅号10" not in page.text
    replies = await admin.press(page, "下一页")
    assert "第 9–11 条" in replies[-1].text and "文旅号10" in replies[-1].text
    assert "下一页" not in str(replies[-1].buttons)
    replies = await admin.press(replies[-1], "按平台")
    replies = await admin.press(replies[-1], "抖音")
    assert "共 5 个" in replies[-1].text and "筛选：抖音" in replies[-1].text
    assert "文旅号00" not in replies[-1].text


async def test_card_edits_a_field_changes_responsible_and_records_history(
    app, tg: FakeTelegram, clock
) -> None:
    await _registry(app, clock, count=1)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/accounts")
    card = (await admin.press(replies[-1], "文旅号00"))[-1]
    assert "责任人：陈编辑" in card.text
    replies = await admin.press(card, "修改信息")
    replies = await admin.press(replies[-1], "账号名称")
    replies = await admin.send("区文旅发布")
    assert "已保存" in replies[-1].text and "区文旅发布" in replies[-1].text

    card = replies[-1]
    replies = await admin.press(card, "更换责任人")
    mark = tg.mark()
    replies = await admin.press(replies[-1], "林编辑")
    assert "责任人：林编辑" in replies[-1].text
    told = await tg.user(5002, "林编辑").inbox(since=mark)
    assert "责任人" in told[-1].text

    replies = await admin.press(replies[-1], "变更记录")
    assert "变更记录" in replies[-1].text and "王主任" in replies[-1].text
    async with app.sessionmaker() as session:
        actions = [
            e.action for e in await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        ]
    assert "account.name_changed" in actions and "account.responsible_changed" in actions


@pytest.mark.both_backends
async def test_stale_card_button_is_refused_after_someone_else_changed_the_account(
    app, tg: FakeTelegram, clock
) -> None:
    _unit, _first, second = await _registry(app, clock, count=1)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/accounts")
    old_card = (await admin.press(replies[-1], "文旅号00"))[-1]
    fresh = (await admin.press(replies[-1], "文旅号00"))[-1]
    replies = await admin.press(fresh, "更换责任人")
    await admin.press(replies[-1], "林编辑")
    # the older card carries the old version: its buttons no longer act
    replies = await admin.press(old_card, "更换责任人")
    replies = await admin.press(replies[-1], "陈编辑")
    answer = [c for c in replies if c.method == "answerCallbackQuery"][-1]
    assert "已被他人更新" in answer.params["text"]
    async with app.sessionmaker() as session:
        account = (await session.exec(select(Account))).one()
        assert account.responsible_id == second


async def test_suspend_resume_and_close_need_reasons_and_notify_the_responsible(
    app, tg: FakeTelegram, clock
) -> None:
    await _registry(app, clock, count=1)
    admin = tg.user(ADMIN_ID, "王主任")
    responsible = tg.user(5001, "陈编辑")
    replies = await admin.send("/accounts")
    card = (await admin.press(replies[-1], "文旅号00"))[-1]
    replies = await admin.press(card, "暂停")
    assert "原因" in replies[-1].text
    assert "至少需要 2 个字" in (await admin.send("停"))[-1].text
    mark = tg.mark()
    replies = await admin.send("机构改革，暂停更新一个月")
    assert "状态：暂停" in replies[-1].text
    assert "暂停" in (await responsible.inbox(since=mark))[-1].text

    replies = await admin.press(replies[-1], "恢复在用")
    assert "状态：在用" in replies[-1].text
    replies = await admin.press(replies[-1], "关停")
    replies = await admin.send("已并入区政府公众号，停更公告已发布")
    assert "状态：关停" in replies[-1].text
    assert not [b for b in replies[-1].buttons if "修改" in b["text"]], (
        "a closed account cannot be edited"
    )
    async with app.sessionmaker() as session:
        account = (await session.exec(select(Account))).one()
        assert (account.status, account.status_reason) == (
            "closed",
            "已并入区政府公众号，停更公告已发布",
        )


async def test_editor_sees_the_card_without_actions(app, tg: FakeTelegram, clock) -> None:
    await _registry(app, clock, count=1)
    editor = tg.user(5001, "陈编辑")
    replies = await editor.send("/accounts")
    card = (await editor.press(replies[-1], "文旅号00"))[-1]
    labels = {b["text"] for b in card.buttons}
    assert not any(word in label for label in labels for word in ("修改", "暂停", "关停", "注销"))
