"""A write batch's new posts go in in chunks, with the loop's turn between them, and come out
exactly as one statement would have stored them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import posts
from models.posts import NewPost
from tests.models.test_findings_pii import _account

pytestmark = pytest.mark.both_backends


def _new(n: int, now) -> NewPost:  # type: ignore[no-untyped-def]
    return NewPost(
        identity=f"g{n}",
        title=f"第{n}条",
        link=f"http://127.0.0.1/{n}",
        author=None,
        published_at=now - timedelta(hours=n),
        dated=True,
        body_text=f"正文{n}",
        counts_as_activity=True,
    )


async def test_posts_inserted_in_chunks_are_all_stored_once_with_a_turn_between_chunks(
    sessionmaker, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    account = await _account(sessionmaker, now)
    turns: list[int] = []

    async def pause() -> None:
        turns.append(len(turns))

    async with sessionmaker() as session:
        first = await posts.insert_many(session, posts={account: [_new(1, now)]}, now=now)
        rows = posts.post_rows(
            {account: [_new(n, now) for n in range(1, 8)]}, now=now, keep_body=True
        )
        inserted = await posts.insert_rows(session, rows, chunk=3, pause=pause)
        await session.commit()
        stored = await posts.latest(session, account_id=account, limit=20)
    assert turns == [0, 1], "7 rows in chunks of 3: three statements, a turn between each"
    assert sorted(inserted) == [(account, f"g{n}") for n in range(2, 8)], "g1 was stored before"
    assert sorted(p.identity for p in stored) == sorted(f"g{n}" for n in range(1, 8))
    assert {p.id for p in stored} == set(inserted.values()) | set(first.values())
