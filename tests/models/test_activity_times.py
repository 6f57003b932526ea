"""The evaluation pass's bulk read of activity times matches the per-account read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import posts
from models.posts import Post
from tests.models.test_findings_pii import _account

pytestmark = pytest.mark.both_backends


async def test_bulk_activity_times_equal_each_accounts_own(sessionmaker, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    account = await _account(sessionmaker, now)
    async with sessionmaker() as session:
        for n, days in enumerate((3, 1, 7, 2)):
            session.add(
                Post(
                    account_id=account,
                    identity=f"g{n}",
                    title=f"第{n}条",
                    published_at=now - timedelta(days=days),
                    first_seen_at=now,
                    counts_as_activity=n != 3,  # a repost that does not count
                )
            )
        await session.commit()
        one = await posts.activity_times(session, account_id=account)
        bulk = await posts.activity_times_of(session, account_ids=[account, account + 999])
    assert len(one) == 3
    assert bulk == {account: one}
