"""/words: admins change the checker's word lists in chat and the change applies at once."""

from __future__ import annotations

import os
from pathlib import Path

from sqlmodel import select

from models.audit import AuditEntry
from tests.conftest import ADMIN_ID
from tests.fakes.telegram import FakeTelegram
from workflows.checker import LiveChecker, read_extra_file

SAMPLE = "本周推出滨江夜游项目，欢迎市民体验。"


async def _try(admin, text: str) -> str:
    replies = await admin.send("/words")
    replies = await admin.press(replies[-1], "试查一段文字")
    return (await admin.send(text))[-1].text


async def test_added_word_is_flagged_at_once_and_removal_undoes_it(app, tg: FakeTelegram) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    assert "未发现问题" in await _try(admin, SAMPLE)

    replies = await admin.send("/words")
    replies = await admin.press(replies[-1], "错敏词")
    replies = await admin.press(replies[-1], "错别字")
    replies = await admin.send("滨江夜游=滨江夜景游\n" + "长" * 61)
    assert "已添加 1 条" in replies[-1].text and "最多 60 个字" in replies[-1].text

    found = await _try(admin, SAMPLE)
    assert "错别字" in found and "<b><u>滨江夜游</u></b>" in found and "滨江夜景游" in found

    replies = await admin.send("/words")
    replies = await admin.press(replies[-1], "查看/删除")
    replies = await admin.press(replies[-1], "删除 #")
    assert "未发现问题" in await _try(admin, SAMPLE)
    async with app.sessionmaker() as session:
        actions = [e.action for e in await session.exec(select(AuditEntry))]
    assert actions.count("words.added") == 1 and actions.count("words.removed") == 1


async def test_only_admins_maintain_words(app, tg: FakeTelegram) -> None:
    assert (
        "只有管理员" in (await tg.user(8888, "路人").send("/words"))[-1].text
        or "邀请链接" in (await tg.user(8888, "路人").send("/words"))[-1].text
    )


async def test_word_file_edits_apply_without_restart(sessionmaker, tmp_path: Path) -> None:
    path = tmp_path / "extra.tsv"
    path.write_text("# kind\tword\tcategory\tsuggestion\n", encoding="utf-8")
    live = LiveChecker(extra_file=path)
    async with sessionmaker() as session:
        assert await live.refresh(session) is True
        assert live.holder.current.check_text(SAMPLE) == []
        assert await live.refresh(session) is False, "nothing changed, nothing rebuilt"
        path.write_text("word\t滨江夜游\tad\n", encoding="utf-8")
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
        assert await live.refresh(session) is True
    [finding] = live.holder.current.check_text(SAMPLE)
    assert (finding.category, finding.text) == ("ad", "滨江夜游")


def test_word_file_reports_bad_lines_and_keeps_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "extra.tsv"
    path.write_text(
        "word\t好词\tporn\nbogus\tx\nword\t\ttypo\nallowed_domain\texample.gov.cn\n",
        encoding="utf-8",
    )
    custom, problems = read_extra_file(path)
    assert [w.word for w in custom.words] == ["好词"] and custom.allowed_domains == (
        "example.gov.cn",
    )
    assert len(problems) == 2 and "extra.tsv:2" in problems[0]
