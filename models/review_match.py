"""Closing the loop: a post the poller stored is linked to its approved draft, or flagged as
published without review (未经审核发布).

The poller calls :func:`match_published_post` once per new post; it is idempotent per
(account, post). Flags live in ``review_flags`` until the findings table of the alerts issue
takes them over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.matching import Candidate, MatchWindow, best_match
from governance.review import ReviewStatus
from governance.roles import Role
from models import audit, outbox, people
from models.accounts import Account
from models.base import UTCDateTime, enum_column
from models.reviews import Review, version
from models.routes import effective_route


class ReviewFlag(SQLModel, table=True):
    __tablename__ = "review_flags"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    post_id: int
    kind: str = Field(default="unreviewed", sa_type=enum_column(16))
    title: str = Field(default="", max_length=300)
    link: str | None = Field(default=None, max_length=2048)
    published_at: datetime = Field(sa_type=UTCDateTime())
    created_at: datetime = Field(sa_type=UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("account_id", "post_id", name="uq_review_flags_post"),)


class MatchOutcome(StrEnum):
    NOT_REQUIRED = "not_required"  # the account's unit does not require review
    MATCHED = "matched"
    FLAGGED = "flagged"


@dataclass(frozen=True, slots=True)
class MatchResult:
    outcome: MatchOutcome
    review: Review | None = None
    flag: ReviewFlag | None = None


async def requires_review(session: AsyncSession, account: Account) -> bool:
    route = await effective_route(session, account)
    return route is not None and route.require_review


async def match_published_post(
    session: AsyncSession,
    *,
    account_id: int,
    post_id: int,
    title: str,
    text: str,
    link: str | None,
    published_at: datetime,
    now: datetime,
    window: MatchWindow | None = None,
    alert_chat_id: int | None = None,
    tz: ZoneInfo | None = None,
) -> MatchResult:
    """Link the post to the approved draft it matches, or flag it and tell the unit manager
    and the admins. Calling it again for the same post changes nothing."""
    window = window or MatchWindow()
    account = await session.get(Account, account_id)
    if account is None or not await requires_review(session, account):
        return MatchResult(MatchOutcome.NOT_REQUIRED)
    linked = (
        await session.exec(
            select(Review).where(
                Review.account_id == account_id, Review.published_post_id == post_id
            )
        )
    ).first()
    if linked is not None:
        return MatchResult(MatchOutcome.MATCHED, review=linked)
    flagged = (
        await session.exec(
            select(ReviewFlag).where(
                ReviewFlag.account_id == account_id, ReviewFlag.post_id == post_id
            )
        )
    ).first()
    if flagged is not None:
        return MatchResult(MatchOutcome.FLAGGED, flag=flagged)
    rows = await session.exec(
        select(Review).where(
            Review.account_id == account_id,
            Review.status == ReviewStatus.APPROVED,
            col(Review.published_post_id).is_(None),
            col(Review.decided_at) >= published_at - window.after,
            col(Review.decided_at) <= published_at + window.before,
        )
    )
    candidates: dict[int, Review] = {}
    pool = []
    for review in rows:
        latest = await version(session, review_id=review.id or 0, number=review.draft_version)
        candidates[review.id or 0] = review
        pool.append(
            Candidate(
                review_id=review.id or 0,
                title=review.title,
                text=latest.body,
                approved_at=review.decided_at or review.created_at,
            )
        )
    best = best_match(
        title=title, text=text, published_at=published_at, candidates=pool, window=window
    )
    if best is not None:
        review = candidates[best.review_id]
        review.published_at, review.published_link = published_at, link
        review.published_post_id = post_id
        session.add(review)
        await session.flush()
        await audit.record(
            session,
            at=now,
            actor_id=None,
            action="review.published",
            object_type="review",
            object_id=review.id,
            after={"post_id": post_id, "link": link, "published_at": published_at.isoformat()},
        )
        return MatchResult(MatchOutcome.MATCHED, review=review)
    flag = ReviewFlag(
        account_id=account_id,
        post_id=post_id,
        title=(title or "")[:300],
        link=link,
        published_at=published_at,
        created_at=now,
    )
    session.add(flag)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=None,
        action="review_flag.unreviewed",
        object_type="account",
        object_id=account_id,
        after={"post_id": post_id, "title": flag.title, "link": link},
    )
    params = {
        "account": account.name,
        "platform": account.platform,
        "title": flag.title,
        "link": link or "",
        "published_at": published_at.astimezone(tz or ZoneInfo("Asia/Shanghai")).strftime(
            "%Y-%m-%d %H:%M"
        ),
    }
    recipients = {
        u.id: u
        for u in [
            *await people.users_with_role(session, role=Role.UNIT_MANAGER, unit_id=account.unit_id),
            *await people.users_with_role(session, role=Role.ADMIN),
        ]
    }
    chats = [(u.telegram_id, f"u{u.id}") for u in recipients.values()]
    if alert_chat_id is not None:
        chats.append((alert_chat_id, "alert"))
    for chat_id, tag in chats:
        await outbox.enqueue(
            session,
            chat_id=chat_id,
            kind="review.unreviewed",
            params=params,
            now=now,
            dedup_key=f"review.unreviewed:{flag.id}:{tag}",
        )
    return MatchResult(MatchOutcome.FLAGGED, flag=flag)


async def flags_of(session: AsyncSession, *, account_id: int) -> list[ReviewFlag]:
    rows = await session.exec(
        select(ReviewFlag).where(ReviewFlag.account_id == account_id).order_by(col(ReviewFlag.id))
    )
    return list(rows)
