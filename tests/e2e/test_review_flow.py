"""Pre-publication review end to end through the fake Bot API: the Done-when scenario first."""

from __future__ import annotations

import io

from docx import Document
from sqlmodel import select

from models.reviews import Review, ReviewDecision, ReviewPart
from tests.conftest import ADMIN_ID
from tests.e2e.review_office import DOCX, PHOTO, card, office, submit
from tests.fakes.telegram import FakeTelegram
from workflows.reviews import published

DRAFT = "本周六上午九点举办校园开放日，欢迎家长参加。联系人王老师，身份证110101199003074514。"


async def test_three_approvers_see_the_originals_and_the_record_exports(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    mark = tg.mark()
    number = await submit(o.editor, parts=[DRAFT, PHOTO, DOCX], anyway=True)
    assert number == "SH-2026-0001"
    async with app.sessionmaker() as session:
        parts = list(await session.exec(select(ReviewPart).order_by(ReviewPart.message_id)))
    originals = {(p.chat_id, p.message_id) for p in parts}
    assert [p.kind for p in parts] == ["text", "photo", "document"]

    since = mark
    for n, approver in enumerate(o.approvers):
        the_card = await card(approver, since=since, number=number)
        copies = [
            c for c in tg.calls[since:] if c.method == "copyMessage" and c.chat_id == approver.id
        ]
        assert {(int(c.params["from_chat_id"]), int(c.params["message_id"])) for c in copies} == (
            originals
        )
        assert ["初审", "复审", "终审"][n] in the_card.text
        assert "个人信息" in the_card.text and "11*************514" in the_card.text
        assert "110101199003074514" not in the_card.text
        assert "钱编辑" in the_card.text and "教育发布" in the_card.text
        since = tg.mark()
        if n == 1:
            replies = await approver.press(the_card, "通过并附意见")
            replies = await approver.send("事实核对无误。")
            assert "你已通过" in replies[0].text
        else:
            replies = await approver.press(the_card, "通过")
            assert any("你已通过" in c.text for c in replies)

    told = await o.editor.inbox(since=mark, count=1)
    final = await tg.wait_for(
        lambda c: c.chat_id == o.editor.id and "可以发布" in c.text, since=mark
    )
    assert number in final.text and told
    async with app.sessionmaker() as session:
        review = (await session.exec(select(Review))).one()
        decisions = list(await session.exec(select(ReviewDecision).order_by(ReviewDecision.id)))
    assert review.status == "approved"
    assert [d.stage_name for d in decisions] == ["初审", "复审", "终审"]
    assert len({d.user_id for d in decisions}) == 3
    assert decisions[1].comment == "事实核对无误。"

    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send(f"/review {number}")
    record = replies[-1].text
    for name in ("孙初审", "李复审", "周终审", "事实核对无误。", "已通过"):
        assert name in record
    replies = await admin.send(f"/export {number}")
    sent = [c for c in replies if c.method == "sendDocument"][-1]
    doc = Document(io.BytesIO(next(iter(sent.files.values()))[1]))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    assert "发布审核单" in text
    for value in (number, "关于开展校园开放日活动的通知", "教育发布", "孙初审", "李复审", "周终审"):
        assert value in cells, value
    assert "事实核对无误。" in cells and "2026-01-05" in cells

    # closing the loop: an unrelated post is flagged, the approved one is matched
    async with app.sessionmaker() as session:
        flagged = await published.match_published_post(
            session,
            account_id=o.account_id,
            post_id=501,
            title="周末招生咨询会",
            text="本周日举行招生咨询会，地点在区体育馆。",
            link="https://mp.weixin.qq.com/s/x1",
            published_at=clock.now(),
            now=clock.now(),
        )
        matched = await published.match_published_post(
            session,
            account_id=o.account_id,
            post_id=502,
            title="关于开展校园开放日活动的通知",
            text="本周六上午九点举办校园开放日，欢迎家长参加。",
            link="https://mp.weixin.qq.com/s/x2",
            published_at=clock.now(),
            now=clock.now(),
        )
        await session.commit()
    assert flagged.outcome == "flagged" and matched.outcome == "matched"
    app.sender.wake()
    alert = await o.manager.inbox(since=mark, count=1)
    assert any("未经审核发布" in c.text and "周末招生咨询会" in c.text for c in alert)
    await admin.inbox(since=mark, count=1)
    replies = await admin.send(f"/review {number}")
    assert "已发布" in replies[-1].text and "https://mp.weixin.qq.com/s/x2" in replies[-1].text
