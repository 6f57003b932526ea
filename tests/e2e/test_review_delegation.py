"""Delegation keeps separation of duties, through the real bot: only approvers may stand in, and
acting on behalf of someone counts as handling that stage for both people."""

from __future__ import annotations

import pytest
from sqlmodel import select

from governance.review import StageRule
from governance.roles import Role
from handlers.callbacks import DelegPick
from models.reviews import ReviewAssignment, ReviewDecision
from tests.e2e.review_office import APPROVER_TG, EDITOR_TG, card, office, submit
from tests.e2e.seed import seed_person, seed_unit
from tests.fakes.telegram import Call, FakeTelegram

TEXT = "区教育局将于下周一召开家长会，请各校做好准备。"
OUTSIDER_TG = 3901


def _said(replies: list[Call]) -> str:
    return "\n".join(c.text for c in replies)


def _is_card(call: Call) -> bool:
    return any(b.get("text") == "通过" for b in call.buttons)


async def test_delegating_to_an_editor_oneself_or_an_outsider_is_refused(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock, approvers=4)
    other_unit = await seed_unit(app.sessionmaker, "某区卫健委", clock.now())
    outsider = await seed_person(
        app.sessionmaker,
        telegram_id=OUTSIDER_TG,
        name="冯外审",
        unit_id=other_unit,
        roles=(Role.APPROVER,),
        now=clock.now(),
    )
    away = o.approvers[0]
    offer = (await away.send("/delegate"))[-1]
    offered = {b["text"] for b in offer.buttons}
    assert {"李复审", "周终审", "吴审核", "赵主任"} <= offered
    assert not offered & {"钱编辑", "孙初审", "冯外审"}
    refusals = {
        o.ids[EDITOR_TG]: "编辑不能代为审核",
        o.ids[APPROVER_TG]: "不能委托给自己",
        outsider: "本单位或上级单位",
    }
    for delegate_id, reason in refusals.items():
        refused = await away.press_data(offer, DelegPick(user_id=delegate_id, days=3).pack())
        assert reason in _said(refused)
    replies = await away.send("/delegate")
    assert "已委托" not in replies[-1].text  # nothing was set by the refused presses


async def test_a_delegate_who_decided_stage_one_on_behalf_gets_no_stage_two_card(
    app, tg: FakeTelegram, clock
) -> None:
    # 初审: 孙; 复审: 孙 or 李. Both are away and name 吴 to stand in.
    o = await office(
        app,
        tg,
        clock,
        approvers=4,
        stages=[("初审", [0], StageRule.ANY), ("复审", [0, 1], StageRule.ANY)],
    )
    sun, li, wu = o.approvers[0], o.approvers[1], o.approvers[3]
    for away in (sun, li):
        replies = await away.send("/delegate")
        replies = await away.press(replies[-1], "吴审核")
        replies = await away.press(replies[-1], "3 天")
        assert "已委托 吴审核" in replies[-1].text
    mark = tg.mark()
    number = await submit(o.editor, parts=[TEXT])
    first = await card(wu, since=mark)
    assert "代 孙初审" in first.text
    mark = tg.mark()
    await wu.press(first, "通过")
    # 复审: 吴 handled 初审 (for 孙), so 吴 may not act for 李, and 孙 counts as having
    # handled 初审 too; the card goes to 李 in person.
    second = await card(li, since=mark)
    assert "复审" in second.text and "代" not in second.text.split("\n")[0]
    # All cards of a stage are queued in one transaction: the assignments show who was asked.
    async with app.sessionmaker() as session:
        asked = list(
            await session.exec(select(ReviewAssignment).where(ReviewAssignment.stage_index == 1))
        )
    assert [(a.user_id, a.on_behalf_of) for a in asked] == [(o.ids[APPROVER_TG + 1], None)]
    assert not [c for c in tg.sent_to(wu.id, since=mark) if _is_card(c)]
    await li.press(second, "通过")
    replies = await o.editor.send(f"/review {number}")
    assert "吴审核（代 孙初审）" in replies[-1].text


@pytest.mark.both_backends
async def test_a_revoked_delegation_sends_the_card_back_and_the_old_card_is_refused(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock, approvers=4)
    sun, wu = o.approvers[0], o.approvers[3]
    replies = await sun.send("/delegate")
    replies = await sun.press(replies[-1], "吴审核")
    await sun.press(replies[-1], "3 天")
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    held = await card(wu, since=mark)
    assert "代 孙初审" in held.text
    mark = tg.mark()
    replies = await sun.send("/delegate")
    await sun.press(replies[-1], "结束代审")
    back = await card(sun, since=mark)
    assert "代 孙初审" not in back.text
    refused = await wu.press(held, "通过")
    assert "你不是该稿件当前环节的审核人" in _said(refused)
    replies = await sun.press(back, "通过")
    assert "你已通过" in _said(replies)


async def test_a_card_held_past_the_delegations_end_is_refused_at_press_time(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock, approvers=4, sla_hours=72)
    sun, wu = o.approvers[0], o.approvers[3]
    replies = await sun.send("/delegate")
    replies = await sun.press(replies[-1], "吴审核")
    await sun.press(replies[-1], "1 天")
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    held = await card(wu, since=mark)
    clock.advance(hours=25)
    refused = await wu.press(held, "通过")
    assert "代审已结束或已撤回" in _said(refused)
    async with app.sessionmaker() as session:
        assert not list(await session.exec(select(ReviewDecision)))


async def test_naming_another_delegate_brings_the_held_cards_back_to_oneself(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock, approvers=5)
    sun, wu, zheng = o.approvers[0], o.approvers[3], o.approvers[4]
    replies = await sun.send("/delegate")
    replies = await sun.press(replies[-1], "吴审核")
    await sun.press(replies[-1], "3 天")
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    held = await card(wu, since=mark)
    mark = tg.mark()
    replies = await sun.send("/delegate")
    replies = await sun.press(replies[-1], "结束代审")
    replies = await sun.send("/delegate")
    replies = await sun.press(replies[-1], "郑审核")
    await sun.press(replies[-1], "3 天")
    back = await card(sun, since=mark)
    assert "代 孙初审" not in back.text
    assert not [c for c in tg.sent_to(zheng.id, since=mark) if _is_card(c)]
    refused = await wu.press(held, "通过")
    assert "你不是该稿件当前环节的审核人" in _said(refused)
