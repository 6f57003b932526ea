"""Repost tasks (转载任务) from the poller and the scheduler: each new post is compared with its
account's open tasks, and reminders go out a day before and at the deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from jobs.polltypes import StoredItem
from workflows import reposts

if TYPE_CHECKING:
    from bot.settings import Settings


class RepostMatch:
    """The poller hook: every new post of an account with open tasks is a candidate repost."""

    def __repr__(self) -> str:
        return "RepostMatch()"

    async def __call__(
        self,
        session: AsyncSession,
        *,
        account_id: int,
        stored: Sequence[StoredItem],
        now: datetime,
    ) -> None:
        posts = [
            reposts.NewPost(
                post_id=entry.post_id,
                title=entry.item.title,
                text=entry.item.body_text,
                link=entry.item.link,
                published_at=entry.item.published or now,
            )
            for entry in stored
        ]
        matched = await reposts.match_posts(session, account_id=account_id, posts=posts, now=now)
        if matched:
            logger.info("account {} reposted task(s) {}", account_id, [t.task_id for t in matched])


async def repost_reminders(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """Reminders to the responsible people of accounts that have not reposted yet."""
    async with sessionmaker() as session:
        queued = await reposts.send_reminders(
            session,
            now=clock.now(),
            tz=settings.tz,
            before=timedelta(hours=settings.repost_remind_before_hours),
        )
        await session.commit()
    if queued:
        logger.info("repost reminders: {} queued", queued)
    return queued
