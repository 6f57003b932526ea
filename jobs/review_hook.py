"""Closing the loop of pre-publication review from the poller: each new post of an account
whose unit requires review is linked to its approved draft or flagged as 未经审核发布.

Posts dated before the account's review route existed are history, not evidence: nobody could
have submitted them through the bot, so they are neither matched nor flagged (otherwise the
first poll of an account would flag its whole archive).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from governance.matching import MatchWindow
from jobs.polltypes import StoredItem
from models.accounts import Account
from models.routes import effective_route
from workflows.reviews.published import match_published_post


class ReviewMatch:
    """The poller hook; ``window`` bounds how far a post may be from its draft's approval."""

    def __init__(self, *, window: MatchWindow, alert_chat_id: int | None, tz: ZoneInfo) -> None:
        self.window, self.alert_chat_id, self.tz = window, alert_chat_id, tz

    def __repr__(self) -> str:
        return "ReviewMatch()"

    async def __call__(
        self,
        session: AsyncSession,
        *,
        account_id: int,
        stored: Sequence[StoredItem],
        now: datetime,
    ) -> None:
        account = await session.get(Account, account_id)
        if account is None:
            return
        route = await effective_route(session, account)
        if route is None or not route.require_review:
            return
        for entry in stored:
            published = entry.item.published or now
            if published < route.created_at:
                continue
            await match_published_post(
                session,
                account_id=account_id,
                post_id=entry.post_id,
                title=entry.item.title,
                text=entry.item.body_text,
                link=entry.item.link,
                published_at=published,
                now=now,
                window=self.window,
                alert_chat_id=self.alert_chat_id,
                tz=self.tz,
            )
