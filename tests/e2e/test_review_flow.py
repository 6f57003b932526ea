"""Pre-publication review end to end through the fake Bot API: the Done-when scenario first."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlmodel import select

from documents.pdf import converter, page_count
from models.reviews import Review, ReviewDecision, ReviewPart
from tests.conftest import ADMIN_ID
from tests.e2e.review_office import DOCX, PHOTO, card, office, submit
from tests.fakes.telegram import FakeTelegram
from workflows.reviews import published

DRAFT = "本周六上午九点举办校园开放日，欢迎家长参加。联系人王老师，身份证110101199003074514。"


@pytest.mark.both_backends
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
    _assert_print_ready_form(doc, [c for c in replies if c.method == "sendDocument"])

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
    await tg.settle()  # the admins' alert is out too, so it is not taken for the reply below
    replies = await admin.send(f"/review {number}")
    records = [c.text for c in replies if "未经审核发布" not in c.text]  # an alert may land late
    assert any("已发布" in t and "https://mp.weixin.qq.com/s/x2" in t for t in records)


def _assert_print_ready_form(doc: Any, documents: list[Any]) -> None:
    """A4, 公文 fonts set for East Asian text, the draft, one signature row per stage, the seal
    area, a narrow label column; and a PDF beside the .docx when LibreOffice is installed."""
    section = doc.sections[0]
    assert abs(section.page_width.mm - 210) < 1 and abs(section.page_height.mm - 297) < 1
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    font_table = next(
        r.target_part.blob for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")
    ).decode()
    assert 'w:name="仿宋_GB2312"' in font_table and 'w:val="SimSun"' in font_table
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "单位（盖章）" in text
    cells = [[cell.text for cell in row.cells] for table in doc.tables for row in table.rows]
    assert any("本周六上午九点举办校园开放日" in row[0] for row in cells)  # the draft itself
    flat = "\n".join(c for row in cells for c in row)
    assert "110101199003074514" not in flat and "11*************514" in flat
    signatures = next(t for t in doc.tables if "审核人签字" in [c.text for c in t.rows[0].cells])
    assert [r.cells[0].text for r in signatures.rows[1:]] == ["初审", "复审", "终审"]
    info = doc.tables[0]
    assert info.rows[0].cells[0].width < info.rows[0].cells[1].width
    if converter() is None:
        assert len(documents) == 1 and "无法生成 PDF" in (documents[0].params.get("caption") or "")
    else:
        pdf = next(iter(documents[-2].files.values()))[1]
        assert pdf.startswith(b"%PDF") and 1 <= page_count(pdf) <= 3
