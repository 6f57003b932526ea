"""Closing the loop: a post the poller stored is linked to its approved draft, or flagged as
published without review (未经审核发布) and the unit's managers and the office are told.

The poller calls :func:`match_published_post` once per new post; it is idempotent per
(account, post).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.matching import Candidate, MatchWindow, best_match
from governance.review import ReviewStatus
from models import audit
from models.accounts import Account
from models.review_match import MatchOutcome, MatchResult, ReviewFlag, requires_review
from models.reviews import Review, version
from workflows.audience import To
from workflows.notices import Unreviewed
from workflows.notify import notify


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
    """Link the post to the approved draft it matches, or flag it and tell the unit's
    managers and the office. Calling it again for the same post changes nothing."""
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
            Review.status == ReviewStatus.APPROVED.value,
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
    unreviewed = Unreviewed(
        flag_id=flag.id or 0,
        account=account.name,
        platform=account.platform,
        title=flag.title,
        link=link or "",
        published_at=published_at.astimezone(tz or ZoneInfo("Asia/Shanghai")).strftime(
            "%Y-%m-%d %H:%M"
        ),
    )
    await notify(
        session,
        unreviewed,
        to=To.of(Audience.UNIT_MANAGERS, Audience.OFFICE, account=account),
        now=now,
        alert_chat_id=alert_chat_id,
    )
    return MatchResult(MatchOutcome.FLAGGED, flag=flag)
