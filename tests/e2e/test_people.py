"""Invitations, roles, disabling people, and what the bot does in group chats and on errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from governance.roles import Role
from models.people import Invitation, User
from tests.conftest import ADMIN_ID
from tests.e2e.flows import create_unit, invite_link, join
from tests.e2e.seed import seed_person, seed_unit
from tests.fakes.telegram import FakeTelegram


@pytest.mark.both_backends
async def test_invitation_link_works_once(app, tg: FakeTelegram, clock) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    await create_unit(admin, "某街道办")
    link = await invite_link(admin, "某街道办", "审核人")
    assert "已加入" in (await join(tg.user(4001, "甲"), link))[-1].text
    assert "已被使用" in (await join(tg.user(4002, "乙"), link))[-1].text
    assert "无需重复" in (await join(tg.user(4001, "甲"), link))[-1].text
    async with app.sessionmaker() as session:
        second = (await session.exec(select(User).where(User.telegram_id == 4002))).one()
        assert second.unit_id is None


async def test_expired_and_revoked_invitations_are_refused(app, tg: FakeTelegram, clock) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    await create_unit(admin, "某街道办")
    old = await invite_link(admin, "某街道办", "编辑")
    clock.advance(days=7, seconds=1)
    assert "已过期" in (await join(tg.user(4003, "丙"), old))[-1].text

    fresh = await invite_link(admin, "某街道办", "编辑")
    replies = await admin.send("/invites")
    assert "未使用的邀请（共 1 条）" in replies[-1].text
    replies = await admin.press(replies[-1], "撤销")
    answer = [c for c in replies if c.method == "answerCallbackQuery"][-1]
    assert "已撤销" in answer.params["text"]
    assert "已被撤销" in (await join(tg.user(4003, "丙"), fresh))[-1].text
    assert "无效" in (await tg.user(4003, "丙").send("/start not-a-real-token"))[-1].text
    async with app.sessionmaker() as session:
        rows = list(await session.exec(select(Invitation)))
        assert all(r.used_at is None for r in rows)


async def test_manager_invites_only_into_own_unit_and_not_admins(
    app, tg: FakeTelegram, clock
) -> None:
    unit = await seed_unit(app.sessionmaker, "某街道办", clock.now())
    await seed_person(
        app.sessionmaker,
        telegram_id=4100,
        name="周科长",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    manager = tg.user(4100, "周科长")
    replies = await manager.send("/invite")
    labels = {b["text"] for b in replies[-1].buttons}
    assert {"单位管理员", "审核人", "编辑"} <= labels and "管理员" not in labels
    # a crafted button asking for an admin invitation is refused server-side
    from handlers.callbacks import InviteRole

    replies = await manager.press_data(replies[-1], InviteRole(unit_id=unit, role="admin").pack())
    answer = [c for c in replies if c.method == "answerCallbackQuery"][-1]
    assert "不能邀请" in answer.params["text"]


async def test_admin_changes_roles_and_disables_a_person_who_is_then_refused(
    app, tg: FakeTelegram, clock
) -> None:
    unit = await seed_unit(app.sessionmaker, "某街道办", clock.now())
    await seed_person(
        app.sessionmaker,
        telegram_id=4200,
        name="吴编辑",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    admin = tg.user(ADMIN_ID, "王主任")
    editor = tg.user(4200, "吴编辑")
    replies = await admin.send("/users")
    replies = await admin.press(replies[-1], "某街道办")
    assert "吴编辑" in replies[-1].text and "编辑" in replies[-1].text
    replies = await admin.press(replies[-1], "吴编辑")
    mark = tg.mark()
    replies = await admin.press(replies[-1], "审核人")
    assert "审核人" in replies[-1].text and "✅ 审核人" in {b["text"] for b in replies[-1].buttons}
    told = await editor.inbox(since=mark)
    assert "你的角色已由 王主任 调整为" in told[-1].text
    commands = [
        c
        for c in tg.calls[mark:]
        if c.method == "setMyCommands" and c.params.get("scope", {}).get("chat_id") == 4200
    ]
    assert commands, "the person's command menu follows their roles"

    replies = await admin.press(replies[-1], "停用此人")
    assert "已停用" in replies[-1].text
    assert "已被停用" in (await editor.send("/accounts"))[-1].text
    async with app.sessionmaker() as session:
        person = (await session.exec(select(User).where(User.telegram_id == 4200))).one()
        assert person.active is False


async def test_last_admin_cannot_remove_own_admin_role(app, tg: FakeTelegram) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/users")
    replies = await admin.press(replies[-1], "不属于单位的人员")
    replies = await admin.press(replies[-1], "王主任")
    replies = await admin.press(replies[-1], "管理员")
    answer = [c for c in replies if c.method == "answerCallbackQuery"][-1]
    assert "不能取消自己的管理员角色" in answer.params["text"]


async def test_group_chat_answers_only_commands_meant_for_the_bot(app, tg: FakeTelegram) -> None:
    admin_in_group = tg.user(ADMIN_ID, "王主任").in_group(-100555)
    mark = tg.mark()
    admin_in_group.tg.queue(
        {
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": -100555, "type": "supergroup", "title": "预警群"},
                "from": admin_in_group.tg_user,
                "text": "大家好，今天的通报收到了",
            }
        }
    )
    admin_in_group.tg.queue(
        {
            "message": {
                "message_id": 2,
                "date": 1,
                "chat": {"id": -100555, "type": "supergroup", "title": "预警群"},
                "from": admin_in_group.tg_user,
                "text": "/help@some_other_bot",
                "entities": [{"type": "bot_command", "offset": 0, "length": 20}],
            }
        }
    )
    replies = await admin_in_group.send("/register@gov_media_test_bot")
    assert "请私聊" in replies[-1].text
    assert len(tg.sent_to(-100555, since=mark)) == 1, (
        "plain chatter and other bots' commands get no answer"
    )
    assert "预警" in (await admin_in_group.send("/help"))[-1].text


async def test_unexpected_error_gets_an_apology_with_a_reference_and_is_logged(
    app, tg: FakeTelegram, clock
) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    await admin.send("/start")
    async with app.engine.begin() as conn:  # the database breaks under the bot
        await conn.execute(sa.text("ALTER TABLE units RENAME TO units_gone"))
    try:
        replies = await admin.send("/units")
        assert "参考编号" in replies[-1].text
    finally:
        async with app.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE units_gone RENAME TO units"))
    # and the bot keeps working afterwards
    assert "单位" in (await admin.send("/units"))[-1].text


async def test_english_clients_read_english(app, tg: FakeTelegram) -> None:
    admin = tg.user(ADMIN_ID, "Director Wang", language_code="en")
    replies = await admin.send("/help")
    assert "/register" in replies[-1].text
    assert "可用命令" not in replies[-1].text
    assert (
        replies[-1].text.isascii()
        or "Commands" in replies[-1].text
        or "commands" in replies[-1].text
    )


async def test_unknown_commands_and_stray_text_get_a_hint(app, tg: FakeTelegram) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    assert "未知命令" in (await admin.send("/nonsense"))[-1].text
    assert "/help" in (await admin.send("随便说点什么"))[-1].text


async def test_invitation_expiry_follows_the_setting(app, tg: FakeTelegram, clock) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    await create_unit(admin, "某街道办")
    await invite_link(admin, "某街道办", "编辑")
    async with app.sessionmaker() as session:
        invitation = (await session.exec(select(Invitation))).one()
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)


async def test_invitation_dies_when_its_inviter_loses_the_right(
    app, tg: FakeTelegram, clock
) -> None:
    unit = await seed_unit(app.sessionmaker, "某街道办", clock.now())
    await seed_person(
        app.sessionmaker,
        telegram_id=4300,
        name="郑科长",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    link = await invite_link(tg.user(4300, "郑科长"), None, "编辑")
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/users")
    replies = await admin.press(replies[-1], "某街道办")
    replies = await admin.press(replies[-1], "郑科长")
    await admin.press(replies[-1], "单位管理员")  # the manager is demoted
    assert "无权发出该邀请" in (await join(tg.user(4301, "新人"), link))[-1].text
    async with app.sessionmaker() as session:
        newcomer = (await session.exec(select(User).where(User.telegram_id == 4301))).one()
        assert newcomer.unit_id is None
