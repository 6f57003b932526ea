"""Closing the loop, stored: posts flagged as published without review (未经审核发布), and
which accounts require review. The matching itself is ``workflows.reviews.published``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import Account
from models.base import UTCDateTime, enum_column
from models.reviews import Review
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


async def flags_of(session: AsyncSession, *, account_id: int) -> list[ReviewFlag]:
    rows = await session.exec(
        select(ReviewFlag).where(ReviewFlag.account_id == account_id).order_by(col(ReviewFlag.id))
    )
    return list(rows)
