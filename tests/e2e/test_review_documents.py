"""Drafts that arrive as documents, end to end through the fake Bot API: the bot downloads the
upload (getFile, then the file URL), reads its text by place in a child process, pre-checks it
like a text draft and shows each finding's place on the submitter's summary, the approver's
card and the printable form; a scan says it needs manual review; unsafe files are refused; a
resubmission's diff is over the documents' text (issue 18, "Drafts arrive as documents")."""

from __future__ import annotations

import io

import pytest
from docx import Document
from sqlmodel import select

from models.reviews import ReviewPart, ReviewVersion
from tests.conftest import ADMIN_ID
from tests.documents.samples import (
    GAMBLING_URL,
    ID_NUMBER,
    make_docx,
    make_pdf,
    make_scanned_pdf,
    make_zip_bomb,
)
from tests.e2e.review_office import Office, Upload, card, office, submit
from tests.fakes.telegram import Call, FakeTelegram, FakeUser

TITLE = "关于开展校园开放日活动的通知"


def _flagged_docx() -> bytes:
    return make_docx(
        paragraphs=["本周六上午九点举办校园开放日，欢迎家长参加。"],
        table=[["联系人", "身份证号"], ["王老师", ID_NUMBER]],
        footnotes=["资料来源：学校官网"],
        footnote_links=[GAMBLING_URL],
        header="某区教育局",
    )


async def _to_summary(user: FakeUser, uploads: list[Upload]) -> tuple[list[Call], Call]:
    """/submit with these files; the acknowledgements and the pre-check summary."""
    replies = await user.send("/submit")
    replies = await user.press(replies[-1], "教育发布")
    acks = []
    for upload in uploads:
        replies = await user.send_document(upload.content, upload.name)
        acks.append(replies[-1])
    replies = await user.press(acks[-1], "完成")
    await user.send(TITLE)
    replies = await user.press(user.tg.sent_to(user.id)[-1], "不设定")
    return acks, replies[-1]


@pytest.mark.both_backends
async def test_a_docx_draft_is_checked_with_places_on_the_card_and_the_form(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    acks, summary = await _to_summary(o.editor, [Upload(_flagged_docx(), "开放日通知.docx")])
    assert "已读取" in acks[0].text and "开放日通知.docx" in acks[0].text
    assert [c for c in tg.calls if c.method == "getFile"], "the upload was downloaded"
    # the submitter's pre-check: the ID number in the table, the gambling link in the footnote
    assert "个人信息" in summary.text and "表1第2行第2列" in summary.text, summary.text
    assert "涉赌" in summary.text and "脚注1" in summary.text
    assert ID_NUMBER not in summary.text and "11*************514" in summary.text
    assert "未发现问题" not in summary.text

    mark = tg.mark()
    replies = await o.editor.press(summary, "仍然提交")
    assert "SH-2026-0001" in replies[-1].text
    the_card = await card(o.approvers[0], since=mark)
    assert "开放日通知.docx 表1第2行第2列" in the_card.text, the_card.text
    assert "开放日通知.docx 脚注1" in the_card.text
    assert "涉赌" in the_card.text and "8888bet" in the_card.text
    assert ID_NUMBER not in the_card.text
    copies = [c for c in tg.calls[mark:] if c.method == "copyMessage"]
    assert copies, "the approver gets the original file too"

    async with app.sessionmaker() as session:
        version = (await session.exec(select(ReviewVersion))).one()
    assert "王老师" in version.body and "资料来源" in version.body  # the text that was checked
    assert all(ID_NUMBER not in str(f) for f in version.findings)
    where = {f["category"]: f.get("where") for f in version.findings}
    assert where["pii"] == {"spot": "table", "file": "开放日通知.docx", "a": 1, "b": 2, "c": 2}
    assert where["gambling"]["spot"] == "footnote"

    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/export SH-2026-0001")
    sent = next(c for c in replies if c.method == "sendDocument")
    form = Document(io.BytesIO(next(iter(sent.files.values()))[1]))
    cells = "\n".join(c.text for t in form.tables for row in t.rows for c in row.cells)
    assert "位置：开放日通知.docx 表1第2行第2列" in cells, cells
    assert "位置：开放日通知.docx 脚注1" in cells
    assert ID_NUMBER not in cells


async def test_a_scanned_pdf_needs_manual_review_and_a_text_pdf_names_its_page(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    text_pdf = make_pdf(["校园开放日安排", f"联系人身份证{ID_NUMBER}"])
    acks, summary = await _to_summary(
        o.editor, [Upload(make_scanned_pdf(), "扫描件.pdf"), Upload(text_pdf, "安排.pdf")]
    )
    assert "扫描件（没有文字层）" in acks[0].text and "人工审核" in acks[0].text
    assert "已读取" in acks[1].text
    assert "需人工审核" in summary.text and "扫描件.pdf" in summary.text
    assert "未发现问题" not in summary.text
    assert "安排.pdf 第2页" in summary.text, summary.text
    assert summary.text.index("需人工审核") < summary.text.index("个人信息"), "listed first"

    mark = tg.mark()
    await o.editor.press(summary, "仍然提交")
    the_card = await card(o.approvers[0], since=mark)
    assert "需人工审核：扫描件.pdf 扫描件（没有文字层）" in the_card.text, the_card.text
    assert "未发现问题" not in the_card.text


async def test_a_scan_alone_is_never_no_problems_found(app, tg: FakeTelegram, clock) -> None:
    o = await office(app, tg, clock)
    _acks, summary = await _to_summary(o.editor, [Upload(make_scanned_pdf(1), "通知.pdf")])
    assert "需人工审核" in summary.text and "未发现问题" not in summary.text
    assert "仍然提交" in str(summary.buttons), "a scan may still go to the approvers"


async def test_unsafe_files_are_refused_with_a_reason_and_nothing_is_kept(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    editor = o.editor
    replies = await editor.send("/submit")
    await editor.press(replies[-1], "教育发布")

    bomb = (await editor.send_document(make_zip_bomb(), "通知.docx"))[-1].text
    assert "解压后体积过大" in bomb and "不予读取" in bomb
    macro = await editor.send_document(make_docx(paragraphs=["x"], macro=True), "通知.docx")
    assert "含有宏" in macro[-1].text
    docm = (await editor.send_document(b"PK\x03\x04", "通知.docm"))[-1].text
    assert "含有宏" in docm
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le")
    assert "已加密" in (await editor.send_document(encrypted, "通知.docx"))[-1].text
    pages = make_docx(paragraphs=["x"], pages=900)
    assert "页数过多（900 页）" in (await editor.send_document(pages, "通知.docx"))[-1].text
    broken = (await editor.send_document(b"PK\x03\x04broken", "通知.docx"))[-1].text
    assert "无法打开" in broken
    mark = tg.mark()
    big = (await editor.send_document(b"x", "通知.pdf", file_size=25 * 1024 * 1024))[-1].text
    assert "文件过大（25.0 MB）" in big and "20 MB" in big
    assert not [c for c in tg.calls[mark:] if c.method == "getFile"], "refused before download"
    async with app.sessionmaker() as session:
        assert list(await session.exec(select(ReviewPart))) == []


async def _returned(app, tg: FakeTelegram, o: Office, first: bytes) -> Call:  # type: ignore[no-untyped-def]
    mark = tg.mark()
    await submit(o.editor, parts=[Upload(first, "会议通知.docx")])
    the_card = await card(o.approvers[0], since=mark)
    mark = tg.mark()
    await o.approvers[0].press(the_card, "退回修改")
    await o.approvers[0].send("会议时间写错了，应为下周二。")
    return await tg.wait_for(
        lambda c: c.chat_id == o.editor.id and "退回修改" in c.text and "理由" in c.text,
        since=mark,
    )


async def test_a_resubmitted_document_shows_what_changed_in_its_text(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    first = make_docx(paragraphs=["区教育局将于下周一召开家长会，请各校做好准备。"])
    notice = await _returned(app, tg, o, first)
    replies = await o.editor.press(notice, "提交修改稿")
    second = make_docx(paragraphs=["区教育局将于下周二召开家长会，请各校做好准备。"])
    replies = await o.editor.send_document(second, "会议通知.docx")
    replies = await o.editor.press(replies[-1], "完成")
    assert "请核对修改稿" in replies[-1].text
    mark = tg.mark()
    await o.editor.press(replies[-1], "提交送审")
    again = await card(o.approvers[0], since=mark)
    assert "与上一版相比" in again.text
    assert "<s>一</s>" in again.text and "<u>二</u>" in again.text, again.text


async def test_a_legacy_doc_without_libreoffice_cannot_be_pre_checked(
    app, tg: FakeTelegram, clock, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice/libreoffice to convert with
    o = await office(app, tg, clock)
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024
    acks, summary = await _to_summary(o.editor, [Upload(legacy, "旧版通知.doc")])
    assert "旧版格式" in acks[0].text and "无法自动预检" in acks[0].text
    assert "需人工审核：旧版通知.doc 旧版格式" in summary.text, summary.text
    assert "未发现问题" not in summary.text


async def test_a_file_sent_before_files_were_read_is_not_passed_on_later_cards(
    app, tg: FakeTelegram, clock
) -> None:
    """A review in flight at the upgrade: its file was never read, so the next stage's card
    says so instead of 未发现问题."""
    o = await office(app, tg, clock)
    mark = tg.mark()
    await submit(
        o.editor, parts=["请审核附件。", Upload(make_docx(paragraphs=["正文"]), "附件.docx")]
    )
    first = await card(o.approvers[0], since=mark)
    assert "未发现问题" in first.text
    async with app.sessionmaker() as session:
        for part in await session.exec(select(ReviewPart)):
            part.extracted = None  # as stored before this release
            session.add(part)
        await session.commit()
    mark = tg.mark()
    await o.approvers[0].press(first, "通过")
    second = await card(o.approvers[1], since=mark)
    assert "需人工审核：附件.docx 提交时系统尚不读取文件内容" in second.text, second.text
    assert "未发现问题" not in second.text
