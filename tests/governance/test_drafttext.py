"""A draft's body from messages and documents, and the place of each finding in it."""

from __future__ import annotations

from governance.drafttext import (
    DocText,
    Piece,
    Place,
    Readable,
    Segment,
    Spot,
    compose,
    locate,
    unread_reason,
)
from governance.precheck import checked_text, precheck, to_json, unread_findings
from governance.quality import build_checker

DOC = DocText(
    Readable.TEXT,
    (
        Segment(Place(Spot.PARAGRAPH, a=1), "活动安排。"),
        Segment(Place(Spot.TABLE, a=1, b=2, c=2), "110101199003074514"),
    ),
)


def test_plain_messages_compose_as_before() -> None:
    composed = compose([Piece(" 第一条 "), Piece("第二条"), Piece(None)])
    assert composed.body == "第一条\n\n第二条" and composed.place_at(0) is None


def test_a_finding_in_a_table_cell_is_placed_there() -> None:
    composed = compose([Piece("请审核附件。"), Piece(None, "通知.docx", DOC)])
    assert "【文件：通知.docx】" in composed.body
    text = checked_text("标题", composed.body)
    offset = len(text) - len(composed.body)
    found = precheck(text, checker=build_checker())
    [pii] = [f for f in found if f.category == "pii"]
    [place] = locate(composed, [pii], offset=offset)
    assert place == Place(Spot.TABLE, "通知.docx", 1, 2, 2)
    assert place.label() == "通知.docx 表1第2行第2列"
    stored = to_json([pii], [place])[0]
    assert Place.from_dict(stored["where"]) == place and "110101199003074514" not in str(stored)


def test_an_unreadable_document_is_a_finding_never_a_pass() -> None:
    scan = DocText(Readable.NO_TEXT, pages=2, image_pages=(1, 2))
    partly = DocText(DOC.readable, DOC.segments, pages=3, image_pages=(3,))
    composed = compose([Piece(None, "扫描.pdf", scan), Piece(None, "部分.pdf", partly)])
    found = unread_findings(composed, offset=0)
    assert [(f.category, f.rule, f.text) for f in found] == [
        ("unreadable", "draft.scanned", "【文件：扫描.pdf】"),
        ("unreadable", "draft.image_pages", "【文件：部分.pdf】"),
    ]
    assert "扫描件" in unread_reason(found[0].rule, found[0].suggestion)
    assert unread_reason(found[1].rule, found[1].suggestion).startswith("第 3 页为图片")
    checked = precheck(composed.body, checker=build_checker(), has_media=True, extra=found)
    assert {f.category for f in checked} >= {"unreadable"}


def test_doc_text_survives_storage() -> None:
    assert DocText.from_json(DOC.to_json()) == DOC
