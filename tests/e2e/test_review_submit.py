"""/submit details: albums, refused files, the pre-check with fix and resend, and a card whose
delivery is interrupted by a 429 resuming without sending any copy twice."""

from __future__ import annotations

from sqlmodel import select

from models.reviews import ReviewPart
from tests.e2e.review_office import card, office, submit
from tests.fakes.telegram import FakeTelegram


def _photo(n: int, group: str) -> dict:  # type: ignore[type-arg]
    return {
        "media_group_id": group,
        "photo": [{"file_id": f"p{n}", "file_unique_id": f"u{n}", "width": 10, "height": 10}],
    }


async def test_album_refused_file_and_fix_and_resend(app, tg: FakeTelegram, clock) -> None:
    o = await office(app, tg, clock)
    editor = o.editor
    replies = await editor.send("/submit")
    replies = await editor.press(replies[-1], "教育发布")
    replies = await editor.send(
        None, document={"file_id": "x", "file_unique_id": "ux", "file_name": "a.exe"}
    )
    assert "只接受" in replies[-1].text
    replies = await editor.send_many([_photo(1, "g1"), _photo(2, "g1"), _photo(3, "g1")])
    acks = [c for c in replies if "已收到" in c.text]
    assert len(acks) == 1, "an album is acknowledged once"
    replies = await editor.send("咨询电话13812345678")
    replies = await editor.press(replies[-1], "完成")
    await editor.send("校园开放日图片")
    replies = await editor.press(tg.sent_to(editor.id)[-1], "不设定")
    summary = replies[-1]
    assert "个人信息" in summary.text and "138****5678" in summary.text
    assert "图片 3 张" in summary.text
    replies = await editor.press(summary, "修改后重发")
    replies = await editor.send("咨询电话见学校官网")
    replies = await editor.press(replies[-1], "完成")
    assert "未发现问题" in replies[-1].text
    replies = await editor.press(replies[-1], "提交送审")
    assert "SH-2026-0001" in replies[-1].text
    async with app.sessionmaker() as session:
        parts = list(await session.exec(select(ReviewPart)))
    assert [p.text for p in parts] == ["咨询电话见学校官网"]


async def test_a_429_in_the_middle_of_a_card_resumes_without_duplicates(
    app, tg: FakeTelegram, clock
) -> None:
    o = await office(app, tg, clock)
    tg.fail_next("copyMessage", code=429, retry_after=2)
    mark = tg.mark()
    await submit(o.editor, parts=["第一段。", "第二段。"])
    clock.advance(seconds=3)
    app.sender.wake()
    the_card = await card(o.approvers[0], since=mark)
    copies = [
        c
        for c in tg.calls[mark:]
        if c.method == "copyMessage"
        and c.chat_id == o.approvers[0].id
        and c.result
        and "message_id" in c.result
    ]
    assert len(copies) == 2 and len({c.params["message_id"] for c in copies}) == 2
    assert the_card.buttons


async def test_a_draft_part_is_acknowledged_only_once_it_is_committed(
    app, tg: FakeTelegram, clock
) -> None:
    """The 已收到 reply promises the part is kept: when it leaves, another connection sees it."""
    o = await office(app, tg, clock)
    seen_when_acknowledged: list[list[str | None]] = []

    async def look_at_the_database(method: str, params: dict) -> None:  # type: ignore[type-arg]
        if method == "sendMessage" and "已收到" in str(params.get("text", "")):
            async with app.sessionmaker() as session:
                parts = list(await session.exec(select(ReviewPart)))
            seen_when_acknowledged.append([p.text for p in parts])

    tg.on_request = look_at_the_database
    replies = await o.editor.send("/submit")
    replies = await o.editor.press(replies[-1], "教育发布")
    replies = await o.editor.send("本周六上午九点举办校园开放日。")
    assert any("已收到" in c.text for c in replies)
    assert seen_when_acknowledged == [["本周六上午九点举办校园开放日。"]]
