"""Returning, rejecting, any/all stages, concurrent and unauthorised presses, withdrawal."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from governance.review import StageRule
from models.reviews import Review, ReviewDecision, ReviewVersion
from tests.e2e.review_office import card, office, submit
from tests.fakes.telegram import FakeTelegram

TEXT = "区教育局将于下周一召开家长会，请各校做好准备。"


def answer_of(replies) -> str:  # type: ignore[no-untyped-def]
    return [c for c in replies if c.method == "answerCallbackQuery"][-1].params.get("text", "")


async def _decisions(app) -> list[ReviewDecision]:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return list(await session.exec(select(ReviewDecision).order_by(ReviewDecision.id)))


async def _review(app) -> Review:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return (await session.exec(select(Review))).one()


async def test_return_with_reason_then_resubmission_shows_the_difference(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    number = await submit(o.editor, parts=[TEXT])
    first = await card(o.approvers[0], since=mark)
    mark = tg.mark()
    await o.approvers[0].press(first, "通过")
    second = await card(o.approvers[1], since=mark)
    replies = await o.approvers[1].press(second, "退回修改")
    assert "理由" in replies[-1].text
    replies = await o.approvers[1].send("x")
    assert "至少需要 2 个字" in replies[-1].text  # too short: nothing recorded
    mark = tg.mark()
    replies = await o.approvers[1].send("会议时间写错了，应为下周二。")
    assert "退回修改" in replies[0].text
    notice = await tg.wait_for(
        lambda c: c.chat_id == o.editor.id and "退回修改" in c.text and "理由" in c.text,
        since=mark,
    )
    assert "会议时间写错了" in notice.text and number in notice.text
    assert (await _review(app)).status == "returned"

    replies = await o.editor.press(notice, "提交修改稿")
    replies = await o.editor.send("区教育局将于下周二召开家长会，请各校做好准备。")
    replies = await o.editor.press(replies[-1], "完成")
    assert "请核对修改稿" in replies[-1].text
    mark = tg.mark()
    replies = await o.editor.press(replies[-1], "提交送审")
    assert "第 2 版" in replies[-1].text and number in replies[-1].text
    # the route restarts at stage 1; the card shows what changed
    again = await card(o.approvers[0], since=mark)
    assert "第 2 版" in again.text and "与上一版相比" in again.text
    assert "<s>一</s>" in again.text and "<u>二</u>" in again.text
    async with app.sessionmaker() as session:
        versions = list(await session.exec(select(ReviewVersion)))
    assert [v.number for v in versions] == [1, 2]
    review = await _review(app)
    assert review.status == "in_review" and review.stage_index == 0
    decisions = await _decisions(app)
    assert [d.decision for d in decisions] == ["approve", "return"]
    assert decisions[1].comment == "会议时间写错了，应为下周二。"


async def test_reject_needs_a_reason_and_tells_the_submitter(app, tg: FakeTelegram, clock) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    first = await card(o.approvers[0], since=mark)
    await o.approvers[0].press(first, "驳回")
    mark = tg.mark()
    await o.approvers[0].send("内容与本单位职能无关，不宜发布。")
    told = await tg.wait_for(lambda c: c.chat_id == o.editor.id and "驳回" in c.text, since=mark)
    assert "不宜发布" in told.text and "不得发布" in told.text
    assert (await _review(app)).status == "rejected"
    # the old card no longer acts
    replies = await o.approvers[0].press(first, "通过")
    assert "已处理" in answer_of(replies)


async def test_all_stage_waits_for_everyone_and_any_stage_closes_the_other_cards(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(
        app,
        tg,
        clock,
        approvers=4,
        stages=[("初审", [0, 1], StageRule.ALL), ("终审", [2, 3], StageRule.ANY)],
    )
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    a = await card(o.approvers[0], since=mark)
    b = await card(o.approvers[1], since=mark)
    replies = await o.approvers[0].press(a, "通过")
    assert any("等待其他审核人" in c.text for c in replies)
    assert (await _review(app)).stage_index == 0
    mark = tg.mark()
    await o.approvers[1].press(b, "通过")
    c_card = await card(o.approvers[2], since=mark)
    d_card = await card(o.approvers[3], since=mark)
    mark = tg.mark()
    await o.approvers[2].press(c_card, "通过")
    edited = await tg.wait_for(
        lambda c: c.method == "editMessageText" and c.chat_id == o.approvers[3].id, since=mark
    )
    assert "周终审" in edited.text and "无需你再处理" in edited.text
    assert int(edited.params["message_id"]) == d_card.message_id
    assert (await _review(app)).status == "approved"
    replies = await o.approvers[3].press(d_card, "通过")
    assert "已处理" in answer_of(replies)
    assert len(await _decisions(app)) == 3


@pytest.mark.both_backends
async def test_concurrent_presses_record_exactly_one_decision(app, tg: FakeTelegram, clock) -> None:
    o = await office(
        app,
        tg,
        clock,
        approvers=3,
        stages=[("初审", [0, 1], StageRule.ANY), ("终审", [2], StageRule.ANY)],
    )
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    a = await card(o.approvers[0], since=mark)
    b = await card(o.approvers[1], since=mark)
    results = await asyncio.gather(
        o.approvers[0].press(a, "通过"),
        o.approvers[1].press(b, "通过"),
        o.approvers[0].press(a, "通过"),
    )
    answers = [answer_of(r) for r in results]
    assert sum("已处理" in text for text in answers) == 2, answers
    decisions = await _decisions(app)
    assert len(decisions) == 1
    review = await _review(app)
    assert review.stage_index == 1 and review.round == 2


async def test_a_stranger_and_the_submitter_cannot_approve(app, tg: FakeTelegram, clock) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    await submit(o.editor, parts=[TEXT])
    first = await card(o.approvers[0], since=mark)
    data = first.button("通过")["callback_data"]
    replies = await o.editor.press_data(first, data)
    assert "不能审核自己提交的稿件" in answer_of(replies)
    stranger = o.approvers[2]  # an approver of the unit, but of stage 3 only
    replies = await stranger.press_data(first, data)
    assert "不是该稿件当前环节的审核人" in answer_of(replies)
    outsider = tg.user(9999, "路人")
    replies = await outsider.press_data(first, data)
    assert "邀请链接" in answer_of(replies)
    assert await _decisions(app) == []
    assert (await _review(app)).stage_index == 0


async def test_withdrawal_voids_the_cards(app, tg: FakeTelegram, clock) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    number = await submit(o.editor, parts=[TEXT])
    first = await card(o.approvers[0], since=mark)
    replies = await o.editor.send("/mine")
    listing = next(c for c in reversed(replies) if number in c.text)  # notices may interleave
    assert "审核中" in listing.text
    replies = await o.editor.press(listing, number)
    mark = tg.mark()
    replies = await o.editor.press(replies[-1], "撤回")
    assert "已撤回" in replies[-1].text
    edited = await tg.wait_for(
        lambda c: c.method == "editMessageText" and c.chat_id == o.approvers[0].id, since=mark
    )
    assert "撤回" in edited.text
    assert (await _review(app)).status == "withdrawn"
    replies = await o.approvers[0].press(first, "通过")
    assert "已处理" in answer_of(replies)
