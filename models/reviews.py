"""Reviews (送审稿): the draft's versions and parts, who was asked, and every decision.

The tables and the read-side queries; the workflow that changes them is in
:mod:`workflows.reviews`. A review's ``round`` counts stage entries: cards carry it, so a
card drawn for an earlier round is recognised as stale; ``lock`` is bumped by every change so
concurrent presses are applied one after another (see :func:`lock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.drafttext import Composed, DocText, Piece, compose
from governance.errors import NotFound, PermissionDenied
from governance.i18n import N_
from governance.review import Decision, ReviewStatus, StageSpec, stages_from
from governance.roles import Actor, can_view_review
from models.base import EnumString, UTCDateTime, enum_column
from models.people import User


class Review(SQLModel, table=True):
    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    year: int
    seq: int
    account_id: int = Field(foreign_key="accounts.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    submitter_id: int = Field(foreign_key="users.id", index=True)
    title: str = Field(max_length=100)
    status: ReviewStatus = Field(sa_type=EnumString(ReviewStatus, 16), index=True)
    stage_index: int = 0
    round: int = 1
    lock: int = 0
    draft_version: int = 1
    route: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    restart_from_first: bool = True
    stage_started_at: datetime = Field(sa_type=UTCDateTime())
    escalated_round: int | None = None
    planned_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    published_link: str | None = Field(default=None, max_length=2048)
    published_post_id: int | None = None
    submission_key: str | None = Field(default=None, max_length=32, unique=True)

    __table_args__ = (sa.UniqueConstraint("year", "seq", name="uq_reviews_year_seq"),)

    @property
    def specs(self) -> list[StageSpec]:
        return stages_from(self.route)

    @property
    def stage(self) -> StageSpec:
        return self.specs[self.stage_index]


class ReviewVersion(SQLModel, table=True):
    __tablename__ = "review_versions"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="reviews.id", index=True)
    number: int
    title: str = Field(max_length=100)
    body: str = Field(default="", sa_type=sa.Text)
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    has_media: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("review_id", "number", name="uq_review_versions_number"),)


class ReviewPart(SQLModel, table=True):
    """One message of a draft in the submitter's chat; approvers get copies of it."""

    __tablename__ = "review_parts"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id")
    draft_key: str = Field(max_length=32, index=True)
    version_id: int | None = Field(default=None, foreign_key="review_versions.id", index=True)
    chat_id: int = Field(sa_type=sa.BigInteger())
    message_id: int = Field(sa_type=sa.BigInteger())
    kind: str = Field(sa_type=enum_column(16))
    text: str | None = Field(default=None, sa_type=sa.Text)
    file_name: str | None = Field(default=None, max_length=255)
    media_group_id: str | None = Field(default=None, max_length=64)
    #: A document's text by place (:meth:`governance.drafttext.DocText.to_json`), read once
    #: when it arrived; None for other parts.
    extracted: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("draft_key", "message_id", name="uq_review_parts_msg"),)

    @property
    def document(self) -> DocText | None:
        return DocText.from_json(self.extracted) if self.extracted else None


class ReviewAssignment(SQLModel, table=True):
    """A card sent to one person for one stage entry (round); the delegator if acting for one."""

    __tablename__ = "review_assignments"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="reviews.id", index=True)
    round: int
    stage_index: int
    user_id: int = Field(foreign_key="users.id", index=True)
    on_behalf_of: int | None = Field(default=None, foreign_key="users.id")
    card_outbox_id: int | None = None
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(sa_type=UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("review_id", "round", "user_id", name="uq_review_assignments_person"),
    )


class ReviewDecision(SQLModel, table=True):
    """谁审核谁负责: each stage's approver, decision, comment and time, kept for good."""

    __tablename__ = "review_decisions"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="reviews.id", index=True)
    round: int
    stage_index: int
    stage_name: str = Field(max_length=20)
    draft_version: int
    user_id: int = Field(foreign_key="users.id")
    on_behalf_of: int | None = Field(default=None, foreign_key="users.id")
    decision: Decision = Field(sa_type=EnumString(Decision, 16))
    comment: str | None = Field(default=None, max_length=500)
    at: datetime = Field(sa_type=UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("review_id", "round", "user_id", name="uq_review_decisions_person"),
    )


# --- reading ------------------------------------------------------------------------------


async def lock(session: AsyncSession, review_id: int) -> Review:
    """Serialize changes to one review: the first write takes the row (PostgreSQL) or the
    database (SQLite) lock, so everything read afterwards is what the last change committed."""
    result = await session.exec(
        sa.update(Review)
        .where(col(Review.id) == review_id)
        .values(lock=Review.lock + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotFound(N_("找不到该审核稿件。"))
    review = await session.get(Review, review_id, populate_existing=True)
    assert review is not None
    return review


async def get_review(session: AsyncSession, review_id: int) -> Review:
    review = await session.get(Review, review_id)
    if review is None:
        raise NotFound(N_("找不到该审核稿件。"))
    return review


async def by_number(session: AsyncSession, number: str) -> Review:
    review = (await session.exec(select(Review).where(Review.number == number))).first()
    if review is None:
        raise NotFound(N_("找不到审核编号 {number}。"), number=number)
    return review


async def is_participant(session: AsyncSession, *, review_id: int, user_id: int) -> bool:
    row = await session.exec(
        select(ReviewAssignment.id).where(
            ReviewAssignment.review_id == review_id,
            sa.or_(
                col(ReviewAssignment.user_id) == user_id,
                col(ReviewAssignment.on_behalf_of) == user_id,
            ),
        )
    )
    return row.first() is not None


async def visible_review(session: AsyncSession, *, review: Review, actor: Actor) -> Review:
    participant = await is_participant(session, review_id=review.id or 0, user_id=actor.user_id)
    if not can_view_review(actor, review.unit_id, participant=participant):
        raise PermissionDenied(N_("你无权查看该审核稿件。"))
    return review


async def versions(session: AsyncSession, review_id: int) -> list[ReviewVersion]:
    rows = await session.exec(
        select(ReviewVersion)
        .where(ReviewVersion.review_id == review_id)
        .order_by(col(ReviewVersion.number))
    )
    return list(rows)


async def version(session: AsyncSession, *, review_id: int, number: int) -> ReviewVersion:
    row = (
        await session.exec(
            select(ReviewVersion).where(
                ReviewVersion.review_id == review_id, ReviewVersion.number == number
            )
        )
    ).one()
    return row


async def parts_of(session: AsyncSession, version_id: int) -> list[ReviewPart]:
    rows = await session.exec(
        select(ReviewPart)
        .where(ReviewPart.version_id == version_id)
        .order_by(col(ReviewPart.message_id))
    )
    return list(rows)


async def decisions(session: AsyncSession, review_id: int) -> list[ReviewDecision]:
    rows = await session.exec(
        select(ReviewDecision)
        .where(ReviewDecision.review_id == review_id)
        .order_by(col(ReviewDecision.at), col(ReviewDecision.id))
    )
    return list(rows)


async def assignments(
    session: AsyncSession, *, review_id: int, round: int
) -> list[ReviewAssignment]:
    rows = await session.exec(
        select(ReviewAssignment)
        .where(ReviewAssignment.review_id == review_id, ReviewAssignment.round == round)
        .order_by(col(ReviewAssignment.id))
    )
    return list(rows)


async def names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.exec(select(User).where(col(User.id).in_(wanted)))
    return {u.id: u.name for u in rows if u.id is not None}


async def mine(session: AsyncSession, *, user_id: int, limit: int = 15) -> list[Review]:
    rows = await session.exec(
        select(Review)
        .where(Review.submitter_id == user_id)
        .order_by(col(Review.id).desc())
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class QueueItem:
    review: Review
    assignment: ReviewAssignment
    deadline: datetime


async def queue(session: AsyncSession, *, user_id: int) -> list[QueueItem]:
    """Drafts waiting for this person's decision, oldest deadline first."""
    from governance.review import deadline

    rows = await session.exec(
        select(Review, ReviewAssignment)
        .join(
            ReviewAssignment,
            sa.and_(
                col(ReviewAssignment.review_id) == Review.id,
                col(ReviewAssignment.round) == Review.round,
            ),
        )
        .where(
            ReviewAssignment.user_id == user_id,
            Review.status == ReviewStatus.IN_REVIEW,
        )
    )
    items = []
    for review, assignment in rows:
        decided = await session.exec(
            select(ReviewDecision.id).where(
                ReviewDecision.review_id == review.id,
                ReviewDecision.round == review.round,
                ReviewDecision.user_id == user_id,
            )
        )
        if decided.first() is None:
            due = deadline(review.stage_started_at, review.stage.sla_hours)
            items.append(QueueItem(review, assignment, due))
    return sorted(items, key=lambda i: (i.deadline, i.review.id or 0))


async def open_reviews(session: AsyncSession, *, statuses: set[ReviewStatus]) -> list[Review]:
    rows = await session.exec(
        select(Review)
        .where(col(Review.status).in_([s.value for s in statuses]))
        .order_by(col(Review.id))
    )
    return list(rows)


async def between(session: AsyncSession, *, start: datetime, end: datetime) -> list[Review]:
    rows = await session.exec(
        select(Review)
        .where(Review.created_at >= start, Review.created_at < end)
        .order_by(col(Review.id))
    )
    return list(rows)


async def next_seq(session: AsyncSession, *, year: int) -> int:
    result = await session.exec(select(func.max(Review.seq)).where(Review.year == year))
    return int(result.one() or 0) + 1


# --- draft parts (the messages of a draft being written) -----------------------------------


async def add_part(
    session: AsyncSession,
    *,
    owner_id: int,
    draft_key: str,
    chat_id: int,
    message_id: int,
    kind: str,
    text: str | None,
    file_name: str | None,
    media_group_id: str | None,
    now: datetime,
    extracted: DocText | None = None,
) -> bool:
    """Store one message; False for the second and later parts of an album (ack it once).

    Album parts arrive as concurrent updates: a no-op write on the owner's row first takes the
    row lock (PostgreSQL) or the write lock (SQLite), so they are stored one after another.
    """
    await session.exec(
        sa.update(User)
        .where(col(User.id) == owner_id)
        .values(updated_at=User.updated_at)
        .execution_options(synchronize_session=False)
    )
    first_of_group = True
    if media_group_id:
        seen = await session.exec(
            select(ReviewPart.id).where(
                ReviewPart.draft_key == draft_key, ReviewPart.media_group_id == media_group_id
            )
        )
        first_of_group = seen.first() is None
    session.add(
        ReviewPart(
            owner_id=owner_id,
            draft_key=draft_key,
            chat_id=chat_id,
            message_id=message_id,
            kind=kind,
            text=text,
            file_name=file_name,
            media_group_id=media_group_id,
            extracted=extracted.to_json() if extracted is not None else None,
            created_at=now,
        )
    )
    await session.flush()
    return first_of_group


async def draft_parts(session: AsyncSession, *, owner_id: int, draft_key: str) -> list[ReviewPart]:
    rows = await session.exec(
        select(ReviewPart)
        .where(
            ReviewPart.owner_id == owner_id,
            ReviewPart.draft_key == draft_key,
            col(ReviewPart.version_id).is_(None),
        )
        .order_by(col(ReviewPart.message_id))
    )
    return list(rows)


async def clear_parts(session: AsyncSession, *, owner_id: int, draft_key: str) -> None:
    """Forget the unsubmitted messages of a draft (fix and resend; cancel)."""
    await session.exec(
        sa.delete(ReviewPart).where(
            col(ReviewPart.owner_id) == owner_id,
            col(ReviewPart.draft_key) == draft_key,
            col(ReviewPart.version_id).is_(None),
        )
    )


def composed(parts: list[ReviewPart]) -> Composed:
    """The draft's text: every message's text or caption and every document's text by place,
    in order, with the place each span came from."""
    return compose(Piece(p.text, p.file_name, p.document) for p in parts)


def body_of(parts: list[ReviewPart]) -> str:
    return composed(parts).body


# --- the record (谁审核谁负责) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionLine:
    decision: ReviewDecision
    name: str
    on_behalf_of: str | None


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    review: Review
    account_name: str
    account_platform: str
    unit_name: str
    submitter: str
    versions: list[ReviewVersion]
    decisions: list[DecisionLine]
    events: list[tuple[datetime, str, str | None]]  # (when, audit action, who)


EVENT_ACTIONS = (
    "review.submitted",
    "review.resubmitted",
    "review.withdrawn",
    "review.expired",
    "review.escalated",
    "review.stuck",
    "review.published",
)


async def load_record(session: AsyncSession, review: Review) -> ReviewRecord:
    from models.accounts import Account
    from models.audit import AuditEntry
    from models.people import Unit

    account = await session.get(Account, review.account_id)
    unit = await session.get(Unit, review.unit_id)
    rows = await decisions(session, review.id or 0)
    events = list(
        await session.exec(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "review",
                AuditEntry.object_id == str(review.id),
                col(AuditEntry.action).in_(EVENT_ACTIONS),
            )
            .order_by(col(AuditEntry.id))
        )
    )
    who = await names(
        session,
        {review.submitter_id}
        | {d.user_id for d in rows}
        | {d.on_behalf_of for d in rows}
        | {e.actor_id for e in events},
    )
    return ReviewRecord(
        review=review,
        account_name=account.name if account else "",
        account_platform=account.platform if account else "",
        unit_name=unit.name if unit else "",
        submitter=who.get(review.submitter_id, ""),
        versions=await versions(session, review.id or 0),
        decisions=[
            DecisionLine(
                d, who.get(d.user_id, ""), who.get(d.on_behalf_of) if d.on_behalf_of else None
            )
            for d in rows
        ],
        events=[(e.at, e.action, who.get(e.actor_id) if e.actor_id else None) for e in events],
    )
