"""Pickers that page: the /routes account list, the responsible-person picker and the unit
choices reach their last item through the shared keyset pages, with totals."""

from __future__ import annotations

from bot.app import BotApp
from governance.roles import Role
from tests.conftest import ADMIN_ID
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.e2e.test_lists import tg_admin_exists
from tests.fakes.telegram import Call, FakeTelegram, FakeUser


async def _unit_with_manager(app: BotApp, clock) -> tuple[int, int]:
    unit = await seed_unit(app.sessionmaker, "某区文旅局", clock.now())
    manager = await seed_person(
        app.sessionmaker,
        telegram_id=3001,
        name="赵老师",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    await tg_admin_exists(app, clock)
    return unit, manager


async def test_routes_account_list_pages_to_the_last_of_40(app, tg: FakeTelegram, clock) -> None:
    unit, manager = await _unit_with_manager(app, clock)
    for n in range(40):
        await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit,
            responsible_id=manager,
            name=f"文旅账号{n:02d}",
            ref=f"wl{n:02d}",
            now=clock.now(),
        )
    person = tg.user(3001, "赵老师")
    overview = (await person.send("/routes"))[-1]
    assert "第 1–20 条，共 40 条" in overview.text
    page = (await person.press(overview, "下一页"))[-1]
    assert "第 21–40 条，共 40 条" in page.text and "文旅账号39" in str(page.buttons)
    back = (await person.press(page, "上一页"))[-1]
    assert "第 1–20 条" in back.text
    foreign = await seed_unit(app.sessionmaker, "某区教育局", clock.now())
    refused = await person.press_data(page, f"ro:0:0:0:0:{foreign}:-1")
    assert any("只有管理员和本单位管理员" in c.params.get("text", "") for c in refused)


async def _many_units(app: BotApp, clock, count: int) -> list[int]:
    return [await seed_unit(app.sessionmaker, f"单位{n:02d}", clock.now()) for n in range(count)]


async def _many_people(app: BotApp, clock, unit: int, count: int) -> None:
    for n in range(count):
        await seed_person(
            app.sessionmaker,
            telegram_id=5000 + n,
            name=f"人员{n:02d}",
            unit_id=unit,
            roles=(Role.EDITOR,),
            now=clock.now(),
        )


async def _page_until(user: FakeUser, message: Call, label: str, pages: int) -> Call:
    """Press 下一页 until ``label`` is among the buttons (at most ``pages`` presses)."""
    for _n in range(pages):
        if label in str(message.buttons):
            return message
        message = (await user.press(message, "下一页"))[-1]
    assert label in str(message.buttons), message.text
    return message


async def test_registration_reaches_the_last_of_70_units_and_70_people(
    app, tg: FakeTelegram, clock
) -> None:
    units = await _many_units(app, clock, 70)
    await _many_people(app, clock, units[-1], 70)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/register")
    await admin.press(replies[-1], "微信公众号")
    await admin.send("某区教育发布")
    await admin.send("jiaoyu_fabu")
    picker = tg.sent_to(admin.id)[-1]
    assert "第 1–12 条，共 70 条" in picker.text
    picker = await _page_until(admin, picker, "单位69", 6)
    assert "第 61–70 条，共 70 条" in picker.text
    people = (await admin.press(picker, "单位69"))[-1]
    assert "第 1–20 条，共 70 条" in people.text
    people = await _page_until(admin, people, "人员69", 4)
    assert "第 61–70 条，共 70 条" in people.text
    back = (await admin.press(people, "上一页"))[-1]
    assert "第 41–60 条" in back.text
    people = (await admin.press(back, "下一页"))[-1]
    replies = await admin.press(people, "人员69")
    assert "承诺每周" in replies[-1].text
    # a page button of the picker pressed after the dialog ended is answered as stale
    await admin.send("/cancel")
    stale = await admin.press_data(people, people.buttons[0]["callback_data"])
    assert any("已失效" in c.params.get("text", "") for c in stale)


async def test_invite_reaches_the_last_of_70_units(app, tg: FakeTelegram, clock) -> None:
    await _many_units(app, clock, 70)
    admin = tg.user(ADMIN_ID, "王主任")
    menu = (await admin.send("/invite"))[-1]
    assert "共 70 条" in menu.text and "管理员（不属于单位）" in str(menu.buttons)
    menu = await _page_until(admin, menu, "单位69", 6)
    roles = (await admin.press(menu, "单位69"))[-1]
    assert "邀请加入：单位69" in roles.text


async def test_account_card_person_picker_reaches_the_last_of_70(
    app, tg: FakeTelegram, clock
) -> None:
    unit, manager = await _unit_with_manager(app, clock)
    await _many_people(app, clock, unit, 70)
    await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=manager,
        name="文旅发布",
        now=clock.now(),
    )
    admin = tg.user(ADMIN_ID, "王主任")
    listing = (await admin.send("/accounts"))[-1]
    card = (await admin.press(listing, "文旅发布"))[-1]
    picker = (await admin.press(card, "更换责任人"))[-1]
    assert "第 1–20 条，共 71 条" in picker.text and "✅ 赵老师" in str(picker.buttons)
    picker = await _page_until(admin, picker, "人员69", 4)
    assert "第 61–71 条，共 71 条" in picker.text
    replies = await admin.press(picker, "人员69")
    assert "责任人：人员69" in replies[-1].text


async def test_route_stage_approver_picker_reaches_the_last_of_70(
    app, tg: FakeTelegram, clock
) -> None:
    unit, _manager = await _unit_with_manager(app, clock)
    await _many_people(app, clock, unit, 70)
    person = tg.user(3001, "赵老师")
    overview = (await person.send("/routes"))[-1]
    editor = (await person.press(overview, "编辑单位流程"))[-1]
    picker = (await person.press(editor, "1.审核人"))[-1]
    assert "第 1–20 条，共 71 条" in picker.text
    picker = await _page_until(person, picker, "人员69", 4)
    ticked = (await person.press(picker, "人员69"))[-1]
    # ticking keeps the same page, with the person ticked
    assert "第 61–71 条，共 71 条" in ticked.text and "☑️ 人员69" in str(ticked.buttons)
    first = (await person.press(ticked, "第一页"))[-1]
    assert "第 1–20 条" in first.text


async def test_submit_account_picker_reaches_the_last_of_40(app, tg: FakeTelegram, clock) -> None:
    unit, manager = await _unit_with_manager(app, clock)
    for n in range(40):
        await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit,
            responsible_id=manager,
            name=f"文旅账号{n:02d}",
            ref=f"wl{n:02d}",
            now=clock.now(),
        )
    person = tg.user(3001, "赵老师")
    picker = (await person.send("/submit"))[-1]
    assert "第 1–20 条，共 40 条" in picker.text
    picker = await _page_until(person, picker, "文旅账号39", 2)
    assert "第 21–40 条，共 40 条" in picker.text
    replies = await person.press(picker, "文旅账号39")
    assert "“文旅账号39”所属单位尚未设置审核流程" in replies[-1].text  # that account was picked


async def test_admin_routes_unit_picker_reaches_the_last_of_70_units(
    app, tg: FakeTelegram, clock
) -> None:
    await _many_units(app, clock, 70)
    await tg_admin_exists(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    picker = (await admin.send("/routes"))[-1]
    assert "选择要设置审核流程的单位" in picker.text and "共 70 条" in picker.text
    picker = await _page_until(admin, picker, "单位69", 6)
    overview = (await admin.press(picker, "单位69"))[-1]
    assert "“单位69”的审核流程" in overview.text and "本单位账号：共 0 条" in overview.text
