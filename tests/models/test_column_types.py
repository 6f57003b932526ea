"""The narrow column types of the big tables: what goes in comes back (to the second), what
cannot be stored is clamped or refused, and queries bind their bounds through the column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from models import posts
from models.base import GB18030Text, UTCSeconds
from models.posts import NewPost, Post
from tests.models.test_findings_pii import _account

TITLES = [
    "关于开展2026年度政务新媒体检查的通知",
    "ASCII only",
    "全角：“引号”，emoji 🎉 与生僻字 𠀀𪚥",
    "",
]


def test_seconds_round_trip_dropping_only_the_sub_second_part() -> None:
    kind = UTCSeconds()
    moment = datetime(2026, 11, 30, 8, 5, 9, 999999, tzinfo=UTC)
    stored = kind.process_bind_param(moment, None)
    assert isinstance(stored, int) and -(2**31) <= stored < 2**31
    assert kind.process_result_value(stored, None) == moment.replace(microsecond=0)
    before_epoch = datetime(1999, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)
    back = kind.process_result_value(kind.process_bind_param(before_epoch, None), None)
    assert back == before_epoch.replace(microsecond=0)  # floored, not rounded towards 2000


def test_dates_beyond_32_bits_are_clamped_to_the_ends_not_refused() -> None:
    kind = UTCSeconds()
    far_past = kind.process_bind_param(datetime(1, 1, 1, tzinfo=UTC), None)
    far_future = kind.process_bind_param(datetime(9999, 12, 31, tzinfo=UTC), None)
    assert (far_past, far_future) == (-(2**31), 2**31 - 1)
    assert kind.process_result_value(far_past, None) == datetime(
        1931, 12, 13, 20, 45, 52, tzinfo=UTC
    )
    assert kind.process_result_value(far_future, None) == datetime(
        2068, 1, 19, 3, 14, 7, tzinfo=UTC
    )


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCSeconds().process_bind_param(datetime(2026, 1, 1), None)


@pytest.mark.parametrize("title", TITLES)
def test_text_round_trips_and_chinese_takes_two_bytes_a_character(title: str) -> None:
    kind = GB18030Text()
    stored = kind.process_bind_param(title, None)
    assert stored is not None and kind.process_result_value(stored, None) == title
    chinese = sum(1 for c in title if "\u4e00" <= c <= "\u9fff")
    assert len(stored) <= len(title.encode()) - chinese


def test_a_lone_surrogate_is_stored_as_a_question_mark_not_an_error() -> None:
    kind = GB18030Text()
    assert kind.process_result_value(kind.process_bind_param("标题\ud800", None), None) == "标题?"


@pytest.mark.both_backends
async def test_posts_read_back_whole_and_date_bounds_filter_through_the_column(  # type: ignore[no-untyped-def]
    sessionmaker, clock
) -> None:
    now = clock.now().replace(microsecond=250000)
    account = await _account(sessionmaker, now)
    new = [
        NewPost(
            identity=f"g{n}",
            title=title,
            link=None,
            author="新闻办 🎉" if n else None,
            published_at=now - timedelta(days=n),
            dated=True,
            body_text="正文",
            counts_as_activity=True,
        )
        for n, title in enumerate(TITLES)
    ]
    async with sessionmaker() as session:
        await posts.insert_many(session, posts={account: new}, now=now)
        await session.commit()
    async with sessionmaker() as session:
        stored = (await session.exec(select(Post).order_by(col(Post.identity)))).all()
        recent = await posts.recent_counts(
            session, account_ids=[account], since=now - timedelta(days=1, seconds=1)
        )
        newest = await posts.newest_activity(session, account_ids=[account])
    assert [(p.title, p.author) for p in stored] == [
        (t, "新闻办 🎉" if n else None) for n, t in enumerate(TITLES)
    ]
    second = now.replace(microsecond=0)
    assert [p.published_at for p in stored] == [second - timedelta(days=n) for n in range(4)]
    assert all(p.first_seen_at == second for p in stored)
    assert recent == {account: 2}
    assert newest == {account: second}
