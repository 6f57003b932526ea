"""Repost recognition as pure rules: canonical links, repost edits to titles and texts, the
headline-only rule, and the similar-but-different article that must not match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from governance.reposts import (
    Article,
    MatchMethod,
    PostView,
    Progress,
    Reminder,
    TargetLine,
    TaskReport,
    by_unit,
    canonical_link,
    clean_text,
    clean_title,
    completion,
    deadline_in,
    due_reminders,
    judge,
    parse_deadline,
    read_source,
)

TZ = ZoneInfo("Asia/Shanghai")
WX = "https://mp.weixin.qq.com/s?__biz=MzA5NjYxMjA0MA==&mid=2650&idx=2&sn=9f1c&chksm=8b2a#rd"
TITLE = "关于开展2026年安全生产月活动的通知"
TEXT = (
    "为深入贯彻落实安全生产工作部署，进一步强化全民安全意识，经研究决定，"
    "于2026年6月在全区范围内开展安全生产月活动。各单位要结合实际，制定具体方案，"
    "广泛开展宣传教育、隐患排查和应急演练，确保活动取得实效。"
)


def article(*, text: str = TEXT, headline: bool = True, link: str | None = WX) -> Article:
    return Article.of(title=TITLE, link=link, text=text, headline_counts=headline)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (WX, "http://mp.weixin.qq.com/s?__biz=MzA5NjYxMjA0MA==&idx=2&mid=2650&scene=21"),
        (
            "https://www.gov.cn/zhengce/content_1.htm?id=3&utm_source=wx&spm=a.b.c",
            "http://gov.cn/zhengce/content_1.htm/?from=timeline&id=3&share_token=x#top",
        ),
        ("https://mp.weixin.qq.com/s/AbC-dEf", "https://mp.weixin.qq.com/s/AbC-dEf?scene=1#rd"),
    ],
)
def test_copies_of_one_link_share_a_canonical_form(a: str, b: str) -> None:
    assert canonical_link(a) == canonical_link(b) is not None


def test_different_pages_keep_different_canonical_forms() -> None:
    assert canonical_link(WX) != canonical_link(WX.replace("idx=2", "idx=3"))
    assert canonical_link("https://a.gov.cn/x?id=1") != canonical_link("https://a.gov.cn/x?id=2")
    assert canonical_link("ftp://a.gov.cn/x") is None and canonical_link("不是链接") is None


@pytest.mark.parametrize(
    "title",
    [
        "【转载】" + TITLE,
        "转自市应急管理局：" + TITLE,
        TITLE + " | 来源：市应急管理局",
        "重磅！" + TITLE,
        "2026年安全生产月活动的通知",
        "开展2026年安全生产月活动",
    ],
)
def test_repost_edits_to_the_title_still_match(title: str) -> None:
    assert judge(article(text=""), PostView(title, None, "")) is MatchMethod.HEADLINE
    with_text = PostView(title, None, "转发学习。" + TEXT)
    assert judge(article(text="", link=None), with_text) is MatchMethod.TITLE


@pytest.mark.parametrize(
    "title",
    [
        "关于开展2026年防汛安全月活动的通知",  # a word swapped in the middle
        "关于开展安全生产月活动的补充通知",  # another document
        "通知",  # too little to tell
    ],
)
def test_a_similar_title_of_another_article_does_not_match(title: str) -> None:
    assert judge(article(text=""), PostView(title, None, "")) is None


def test_the_link_alone_is_enough_even_inside_the_text() -> None:
    share = WX.replace("#rd", "&utm_source=weibo#wechat_redirect")
    assert judge(article(), PostView("转发", None, f"请关注 {share}")) is MatchMethod.LINK
    assert judge(article(), PostView("今日要闻", share, "")) is MatchMethod.LINK


def test_the_text_survives_source_lines_and_a_new_title() -> None:
    body = "来源：市应急管理局\n编辑：王某\n" + TEXT + "\n责任编辑：李某"
    assert judge(article(), PostView("安全生产月来了", None, body)) is MatchMethod.TEXT
    assert clean_text(body) == clean_text(TEXT)


def test_headline_only_counts_only_when_the_task_says_so() -> None:
    post = PostView("【转发】" + TITLE, "https://other.gov.cn/a/1", "")
    assert judge(article(link=None), post) is MatchMethod.HEADLINE
    assert judge(article(link=None, headline=False), post) is None
    assert judge(article(link=None, text="", headline=False), post) is None  # text unknown


def test_a_similar_title_over_its_own_long_text_is_another_article() -> None:
    own = (
        "为做好汛期防汛工作，全区各街道要加强巡查值守，落实防汛物资储备，"
        "及时转移危险区域群众，确保人民群众生命财产安全，各部门要密切配合。"
    )
    post = PostView("关于开展2026年安全生产月活动的通知", None, own)
    assert judge(article(link=None), post) is None


def test_clean_title_drops_stacked_repost_marks() -> None:
    assert clean_title("【转载】重磅！" + TITLE + "（转自市应急局）") == clean_title(TITLE)


def test_reminders_a_day_before_then_at_the_deadline_once_each() -> None:
    deadline = datetime(2026, 1, 8, 10, tzinfo=UTC)
    day = timedelta(days=1)
    assert due_reminders(deadline=deadline, now=deadline - 2 * day, sent=[], before=day) == []
    assert due_reminders(deadline=deadline, now=deadline - day, sent=[], before=day) == [
        Reminder.DAY_BEFORE
    ]
    sent = [Reminder.DAY_BEFORE]
    assert due_reminders(deadline=deadline, now=deadline - day / 2, sent=sent, before=day) == []
    assert due_reminders(deadline=deadline, now=deadline, sent=sent, before=day) == [
        Reminder.DEADLINE
    ]
    assert (
        due_reminders(deadline=deadline, now=deadline, sent=[Reminder.DEADLINE], before=day) == []
    )
    late = deadline - day / 3  # a task created at short notice: the assignment said it all
    assert due_reminders(deadline=deadline, now=late, sent=[], before=day, created_at=late) == []


def test_deadlines_are_read_in_the_office_zone() -> None:
    assert parse_deadline("2026-01-25 18:00", tz=TZ) == datetime(2026, 1, 25, 10, tzinfo=UTC)
    assert parse_deadline("2026年1月25日", tz=TZ) == datetime(2026, 1, 25, 10, tzinfo=UTC)
    assert parse_deadline("2026-02-30", tz=TZ) is None and parse_deadline("明天", tz=TZ) is None
    now = datetime(2026, 1, 5, 1, tzinfo=UTC)
    assert deadline_in(3, now=now, tz=TZ) == datetime(2026, 1, 8, 10, tzinfo=UTC)


def test_a_forwarded_message_gives_title_link_and_text() -> None:
    source = read_source(f"{TITLE}\n{TEXT}\n原文：{WX}", forwarded=True)
    assert source.title == TITLE and source.link == WX
    assert source.text is not None and source.text.startswith("为深入贯彻")
    assert read_source(WX) == type(source)(None, WX, None)


def test_progress_by_unit_and_completion_rates() -> None:
    lines = (
        TargetLine(1, "甲发布", "甲局", Progress.DONE),
        TargetLine(2, "甲头条", "甲局", Progress.OVERDUE),
        TargetLine(3, "乙发布", "乙局", Progress.PENDING),
    )
    units = by_unit(lines)
    assert [(u.unit, u.done, u.pending, u.overdue) for u in units] == [
        ("乙局", 0, 1, 0),
        ("甲局", 1, 0, 1),
    ]
    task = TaskReport(1, TITLE, datetime(2026, 1, 8, tzinfo=UTC), lines)
    rates = {c.name: c.rate for c in completion([task, task], per="unit")}
    assert rates == {"甲局": 0.5, "乙局": 0.0}
    accounts = completion([task], per="account")
    assert (accounts[0].name, accounts[0].assigned, accounts[0].done) == ("#3 乙发布", 1, 0)
