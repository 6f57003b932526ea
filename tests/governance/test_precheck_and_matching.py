"""The draft pre-check, the text difference and the post matcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from governance.matching import Candidate, MatchWindow, best_match, normalize, similarity
from governance.precheck import blocking, checked_text, precheck, snippets, to_json
from governance.quality import build_checker
from governance.textdiff import compact, diff

CHECKER = build_checker()


def test_empty_and_over_long_drafts() -> None:
    assert [f.category for f in precheck("  ", checker=CHECKER)] == ["empty"]
    assert blocking(precheck("", checker=CHECKER))
    assert precheck("", checker=CHECKER, has_media=True) == []
    long = precheck("政务公开" * 100, checker=CHECKER, max_chars=100)
    assert long[0].category == "too_long" and not blocking(long)


def test_personal_data_is_found_and_shown_masked_only() -> None:
    text = checked_text("通知", "联系电话13812345678，身份证110101199003074514。")
    found = precheck(text, checker=CHECKER)
    assert {f.category for f in found} == {"pii"}
    shown = [s.hit for s in snippets(text, found)]
    assert "138****5678" in shown and "11*************514" in shown
    stored = to_json(found)
    assert all("13812345678" not in str(item) for item in stored)


def test_diff_marks_changes_and_shortens_long_runs() -> None:
    ops = diff("会议定于周一召开", "会议定于周二召开")
    assert ("removed", "一") in ops and ("added", "二") in ops
    long = compact([("same", "甲" * 50), ("added", "乙")], context=5)
    assert long[0][1] == "…" + "甲" * 5


def test_normalized_similarity_ignores_punctuation_and_links() -> None:
    assert normalize("Ｈello， 世界！https://x.cn/a") == "hello世界"
    assert similarity("关于开展开放日的通知", "关于开展开放日的通知（转载）") == 1.0


def test_best_match_respects_the_window_and_threshold() -> None:
    approved = datetime(2026, 1, 5, tzinfo=UTC)
    draft = Candidate(1, "校园开放日通知", "本周六上午举办校园开放日，欢迎家长参加。", approved)
    window = MatchWindow(before=timedelta(hours=2), after=timedelta(days=3), threshold=0.6)
    hit = best_match(
        title="校园开放日通知",
        text="",
        published_at=approved + timedelta(hours=5),
        candidates=[draft],
        window=window,
    )
    assert hit is draft
    assert (
        best_match(
            title="校园开放日通知",
            text="",
            published_at=approved + timedelta(days=4),
            candidates=[draft],
            window=window,
        )
        is None
    )
    assert (
        best_match(
            title="招生咨询会",
            text="本周日举行招生咨询会。",
            published_at=approved,
            candidates=[draft],
            window=window,
        )
        is None
    )
