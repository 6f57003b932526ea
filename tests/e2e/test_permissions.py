"""Authorization is checked server-side on every command and every button press."""

from __future__ import annotations

from sqlmodel import select

from governance.roles import Role
from models.accounts import Account
from tests.conftest import ADMIN_ID
from tests.e2e.flows import AccountForm, fill_registration
from tests.e2e.seed import seed_person, seed_unit
from tests.fakes.telegram import FakeTelegram


async def _office(app, clock) -> int:
    unit = await seed_unit(app.sessionmaker, "某街道办", clock.now())
    await seed_person(
        app.sessionmaker,
        telegram_id=3001,
        name="赵科长",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    await seed_person(
        app.sessionmaker,
        telegram_id=3002,
        name="钱编辑",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    return unit


async def test_stranger_cannot_register_and_is_told_how_to_join(
    app, tg: FakeTelegram, clock
) -> None:
    stranger = tg.user(9999, "路人")
    replies = await stranger.send("/register")
    assert "邀请链接" in replies[-1].text
    replies = await stranger.send("/accounts")
    assert "邀请链接" in replies[-1].text


async def test_editor_cannot_register_invite_or_see_registrations(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    editor = tg.user(3002, "钱编辑")
    assert "只有管理员和单位管理员可以登记账号" in (await editor.send("/register"))[-1].text
    assert "只有管理员和单位管理员可以邀请人员" in (await editor.send("/invite"))[-1].text
    # /pending is every member's queue: the editor sees drafts to review, never registrations
    replies = await editor.send("/pending")
    assert "没有待你审核的稿件" in replies[-1].text
    assert not any("账号登记" in c.text for c in replies)


async def test_approval_button_pressed_by_non_admin_changes_nothing(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    manager = tg.user(3001, "赵科长")
    admin = tg.user(ADMIN_ID, "王主任")
    summary = await fill_registration(manager, AccountForm(responsible="钱编辑"))
    mark = tg.mark()
    await manager.press(summary, "确认提交")
    card = (await admin.inbox(since=mark))[-1]

    # the manager and the editor replay the admin's approve button: refused, state unchanged
    for intruder in (manager, tg.user(3002, "钱编辑")):
        replies = await intruder.press_data(card, card.button("通过")["callback_data"])
        answer = [c for c in replies if c.method == "answerCallbackQuery"][-1]
        assert "只有管理员可以审批" in answer.params["text"]
    async with app.sessionmaker() as session:
        account = (await session.exec(select(Account))).one()
        assert account.status == "pending"

    # the admin's press works once; a second press on the stale card says it was handled
    await admin.press(card, "通过")
    replies = await admin.press_data(card, card.button("通过")["callback_data"])
    answer = [c for c in replies if c.method == "answerCallbackQuery"][-1]
    assert "已处理" in answer.params["text"]


async def test_manager_sees_only_own_unit_accounts(app, tg: FakeTelegram, clock) -> None:
    unit = await _office(app, clock)
    other = await seed_unit(app.sessionmaker, "另一个局", clock.now())
    other_person = await seed_person(
        app.sessionmaker,
        telegram_id=3100,
        name="孙某",
        unit_id=other,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    from tests.e2e.seed import seed_account

    theirs = await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=other,
        responsible_id=other_person,
        name="别人的号",
        now=clock.now(),
    )
    manager = tg.user(3001, "赵科长")
    replies = await manager.send("/accounts")
    assert "别人的号" not in replies[-1].text
    # pressing a crafted "open account" button for another unit's account is refused
    from handlers.callbacks import AccOpen

    replies = await manager.press_data(replies[-1], AccOpen(account_id=theirs).pack())
    answer = [c for c in replies if c.method == "answerCallbackQuery"][-1]
    assert "无权查看" in answer.params["text"]
    assert unit != other
