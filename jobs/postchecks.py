"""The new-post hooks, run after the posts commit, and again on posts a stopped process stored
but never checked.

New posts are committed before their hooks run (:func:`run_new_post_hooks`); a kill in
between leaves rows in ``unchecked_posts``. Each poll and column tick first takes the rows its
own job left more than :data:`RECHECK_AFTER` ago and runs the same hooks on them, rebuilt from
what is stored: title, link, author, date and the kept text (the page's HTML was not stored, so
link checks see the text only). Findings and alerts are idempotent, so a post checked twice after
a crash at the last moment alerts once.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.feedparse import ParsedItem
from governance.clock import Clock
from jobs.polltypes import NewPostsHook, PreparingHook, StoredItem
from jobs.slices import LoopShare
from models import postchecks
from models.base import begin_writing
from models.postchecks import PostSource
from models.posts import Post

RECHECK_AFTER = timedelta(minutes=30)
"""Longer than any hook run of one tick takes, so a running tick's posts are never taken."""
BATCH = 500


async def run_new_post_hooks(
    sessionmaker: async_sessionmaker[AsyncSession],
    hooks: Sequence[NewPostsHook],
    stored: Sequence[tuple[int, list[StoredItem]]],
    *,
    now: datetime,
    share: LoopShare | None = None,
) -> None:
    """The hooks on posts already committed (feeds and website columns alike): one short
    transaction per account (taking SQLite's write lock first, as a deferred snapshot could not
    be upgraded once another writer committed), so other writers get in between accounts; each
    hook in a savepoint: a failing check costs its own work, never the posts. A hook's slow
    part (the content checks) runs before, without the lock (:class:`PreparingHook`).
    ``share``: the chat's replies go first between accounts (:class:`jobs.slices.LoopShare`)."""
    if not hooks:
        return
    for account_id, items in stored:
        if share is not None:
            await share.checkpoint()
        prepared: dict[int, Any] = {}
        for n, hook in enumerate(hooks):
            if isinstance(hook, PreparingHook):
                try:
                    prepared[n] = await hook.prepare(
                        sessionmaker, account_id=account_id, stored=items, share=share
                    )
                except Exception:
                    logger.exception("preparing hook {!r} failed for account {}", hook, account_id)
        try:
            async with sessionmaker() as session:
                await begin_writing(session)
                for n, hook in enumerate(hooks):
                    try:
                        async with session.begin_nested():
                            if n in prepared and isinstance(hook, PreparingHook):
                                await hook(
                                    session,
                                    account_id=account_id,
                                    stored=items,
                                    now=now,
                                    prepared=prepared[n],
                                )
                            else:
                                await hook(session, account_id=account_id, stored=items, now=now)
                    except Exception:
                        logger.exception(
                            "new-post hook {!r} failed for account {}", hook, account_id
                        )
                await postchecks.clear(session, post_ids=[s.post_id for s in items])
                await session.commit()
        except Exception:
            logger.exception("new-post hooks for account {} failed", account_id)


async def recheck_unchecked(
    sessionmaker: async_sessionmaker[AsyncSession],
    hooks: Sequence[NewPostsHook],
    *,
    source: PostSource,
    clock: Clock,
    limit: int = BATCH,
) -> int:
    """Run ``hooks`` on up to ``limit`` posts ``source`` stored and left unchecked; returns how
    many were taken."""
    now = clock.now()
    async with sessionmaker() as session:
        taken = await postchecks.claim_left_behind(
            session, source=source, before=now - RECHECK_AFTER, now=now, limit=limit
        )
        gone = [row.post_id for row, post in taken if post is None]
        await postchecks.clear(session, post_ids=gone)
        await session.commit()
    if not taken:
        return 0
    per_account: dict[int, list[StoredItem]] = defaultdict(list)
    for row, post in taken:
        if post is not None and post.id is not None:
            per_account[row.account_id].append(StoredItem(post.id, _item(post)))
    logger.warning(
        "rechecking {} new posts left unchecked by a stopped {} job ({} accounts)",
        len(taken),
        source.value,
        len(per_account),
    )
    await run_new_post_hooks(sessionmaker, hooks, list(per_account.items()), now=now)
    return len(taken)


def _item(post: Post) -> ParsedItem:
    text = post.body_text
    return ParsedItem(
        identity=post.identity,
        guid=None,
        title=post.title,
        link=post.link,
        author=post.author,
        published=post.published_at if post.dated else None,
        body_text=text,
        body_html=html.escape(text),
    )
