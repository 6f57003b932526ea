"""Stored findings (问题 / 错敏信息): defects found in posts, per post and per account.

A finding row belongs to one post (the evidence); ``account_key`` groups the same defect
(category and matched text) across an account's posts, so the same injected spam on ten pages
raises one alert, and the account card counts distinct problems rather than occurrences.

Personal data is stored only masked (``Finding.shown``): ``text``, ``excerpt`` and
``account_key`` never hold the clear value, so every reader shows ``text`` as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.quality import Finding
from governance.registry import validate_reason
from governance.roles import Actor
from governance.vocabulary import Category, Severity, severity_rank
from models import audit
from models.base import EnumString, UTCDateTime, dialect_insert

TEXT_MAX = 200
EXCERPT_MAX = 300
EXCERPT_CONTEXT = 40
WITHDRAWN_REASON = N_("词库调整后不再报告")


class FindingStatus(StrEnum):
    OPEN = "open"
    WAIVED = "waived"  # an admin decided it is not a defect, with a reason
    RESOLVED = "resolved"  # the post is gone or fixed
    WITHDRAWN = "withdrawn"  # the word lists no longer report it (a history sweep decided)


class StoredFinding(SQLModel, table=True):
    __tablename__ = "findings"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    post_id: int | None = Field(default=None, foreign_key="posts.id", index=True)
    category: Category = Field(sa_type=EnumString(Category, 16))
    severity: Severity = Field(sa_type=EnumString(Severity, 8))
    rule: str = Field(max_length=64)
    start: int
    end: int
    text: str = Field(max_length=TEXT_MAX)
    suggestion: str | None = Field(default=None, max_length=TEXT_MAX)
    excerpt: str = Field(default="", max_length=EXCERPT_MAX)
    account_key: str = Field(max_length=260, index=True)
    status: FindingStatus = Field(
        default=FindingStatus.OPEN, sa_type=EnumString(FindingStatus, 10), index=True
    )
    found_at: datetime = Field(sa_type=UTCDateTime())
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    closed_by: int | None = Field(default=None, foreign_key="users.id")
    close_reason: str | None = Field(default=None, max_length=500)

    __table_args__ = (
        sa.UniqueConstraint("post_id", "rule", "start", name="uq_findings_post_rule_start"),
    )


def account_key(account_id: int, finding: Finding) -> str:
    """The same defect across an account's posts; personal data takes part only masked."""
    return f"{account_id}:{finding.category}:{finding.shown[:TEXT_MAX]}"


def pii_masks(findings: Sequence[Finding]) -> dict[str, str]:
    """Each piece of personal data found, and the masked form to show instead."""
    return {f.text: f.shown for f in findings if f.category == Category.PII}


def mask(text: str, masks: dict[str, str]) -> str:
    for raw, masked in masks.items():
        text = text.replace(raw, masked)
    return text


def excerpt(
    text: str, finding: Finding, *, masks: dict[str, str], context: int = EXCERPT_CONTEXT
) -> str:
    """The finding in its surroundings, with every piece of personal data masked."""
    window = text[max(0, finding.start - context) : finding.end + context][:EXCERPT_MAX]
    return mask(window, masks)


async def record_post_findings(
    session: AsyncSession,
    *,
    account_id: int,
    post_id: int,
    checked_text: str,
    findings: Sequence[Finding],
    now: datetime,
    excerpts: Sequence[str] | None = None,
) -> list[StoredFinding]:
    """Store a post's findings once; return those whose defect is new to the account.

    "New to the account" means no open finding with the same category and text existed before:
    that is what deserves an alert, not every repetition.
    """
    return await record_many(
        session,
        posts=[PostFindings(account_id, post_id, checked_text, findings, excerpts)],
        now=now,
    )


@dataclass(frozen=True, slots=True)
class PostFindings:
    """One post's findings to store (``excerpts``: already masked, else cut from the text)."""

    account_id: int
    post_id: int
    checked_text: str
    findings: Sequence[Finding]
    excerpts: Sequence[str] | None = None


async def record_many(
    session: AsyncSession, *, posts: Sequence[PostFindings], now: datetime
) -> list[StoredFinding]:
    """:func:`record_post_findings` for several posts in three statements (the history sweep's
    batch): each (post, rule, start) stored once; returned, the first new row of each defect
    that had no open finding on its account before."""
    rows: list[dict[str, object]] = []
    for p in posts:
        masks = pii_masks(p.findings)
        rows += [
            {
                "account_id": p.account_id,
                "post_id": p.post_id,
                "category": f.category,
                "severity": f.severity,
                "rule": f.rule[:64],
                "start": f.start,
                "end": f.end,
                "text": f.shown[:TEXT_MAX],
                "suggestion": f.advice[:TEXT_MAX] if f.advice else None,
                "excerpt": p.excerpts[i][:EXCERPT_MAX]
                if p.excerpts
                else excerpt(p.checked_text, f, masks=masks),
                "account_key": account_key(p.account_id, f),
                "status": FindingStatus.OPEN,
                "found_at": now,
            }
            for i, f in enumerate(p.findings)
        ]
    if not rows:
        return []
    # account_key starts with the account's id, so the keys alone name (account, defect)
    known = set(
        await session.exec(
            select(StoredFinding.account_key).where(
                col(StoredFinding.account_key).in_({str(r["account_key"]) for r in rows}),
                StoredFinding.status == FindingStatus.OPEN,
            )
        )
    )
    insert = dialect_insert(session)
    stmt = insert(StoredFinding).on_conflict_do_nothing(index_elements=["post_id", "rule", "start"])
    result = await session.exec(stmt.returning(col(StoredFinding.id)), params=rows)
    ids = [row[0] for row in result.all()]
    if not ids:
        return []
    stored = list(
        await session.exec(
            select(StoredFinding)
            .where(col(StoredFinding.id).in_(ids))
            .order_by(col(StoredFinding.id))
        )
    )
    fresh: dict[str, StoredFinding] = {}
    for row in stored:
        if row.account_key not in known:
            fresh.setdefault(row.account_key, row)
    return list(fresh.values())


async def of_posts(
    session: AsyncSession, *, post_ids: Sequence[int], statuses: Sequence[FindingStatus]
) -> list[StoredFinding]:
    """The findings of several posts with one of ``statuses`` (the history sweep's batch)."""
    if not post_ids:
        return []
    rows = await session.exec(
        select(StoredFinding).where(
            col(StoredFinding.post_id).in_(post_ids), col(StoredFinding.status).in_(statuses)
        )
    )
    return list(rows)


async def withdraw(session: AsyncSession, *, ids: Sequence[int], now: datetime) -> int:
    """Close findings the current word lists no longer report (still open ones only)."""
    if not ids:
        return 0
    result = await session.exec(
        sa.update(StoredFinding)
        .where(col(StoredFinding.id).in_(ids), col(StoredFinding.status) == FindingStatus.OPEN)
        .values(status=FindingStatus.WITHDRAWN, closed_at=now, close_reason=WITHDRAWN_REASON)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def reopen(session: AsyncSession, *, ids: Sequence[int]) -> list[StoredFinding]:
    """Open again withdrawn findings that the word lists report again (a word put back).

    Their alert went out when they were first found (its dedup key names the finding), so
    reopening sends nothing again."""
    if not ids:
        return []
    await session.exec(
        sa.update(StoredFinding)
        .where(col(StoredFinding.id).in_(ids), col(StoredFinding.status) == FindingStatus.WITHDRAWN)
        .values(status=FindingStatus.OPEN, closed_at=None, close_reason=None)
        .execution_options(synchronize_session=False)
    )
    return list(await session.exec(select(StoredFinding).where(col(StoredFinding.id).in_(ids))))


async def posts_citing(
    session: AsyncSession, *, texts: Sequence[str], after: int, limit: int
) -> list[int]:
    """Posts (id order, after ``after``) with open findings whose text is one of ``texts``
    (lowered), for a sweep after words were only removed."""
    rows = await session.exec(
        select(col(StoredFinding.post_id))
        .where(
            col(StoredFinding.post_id) > after,
            StoredFinding.status == FindingStatus.OPEN,
            func.lower(StoredFinding.text).in_(list(texts)),
        )
        .group_by(col(StoredFinding.post_id))
        .order_by(col(StoredFinding.post_id))
        .limit(limit)
    )
    return [int(p) for p in rows if p is not None]


async def count_posts_citing(session: AsyncSession, *, texts: Sequence[str]) -> int:
    rows = await session.exec(
        select(func.count(func.distinct(StoredFinding.post_id))).where(
            StoredFinding.status == FindingStatus.OPEN,
            func.lower(StoredFinding.text).in_(list(texts)),
        )
    )
    return int(rows.one() or 0)


async def open_summary(session: AsyncSession, *, account_id: int) -> list[tuple[str, str, int]]:
    """(category, severity, distinct problems) of an account's open findings, severest first."""
    rows = await session.exec(
        select(
            StoredFinding.category,
            StoredFinding.severity,
            func.count(func.distinct(StoredFinding.account_key)),
        )
        .where(
            StoredFinding.account_id == account_id,
            StoredFinding.status == FindingStatus.OPEN,
        )
        .group_by(StoredFinding.category, StoredFinding.severity)
    )
    return _severest_first([(c, s, int(n)) for c, s, n in rows])


async def open_findings(
    session: AsyncSession, *, account_id: int, limit: int = 5
) -> list[StoredFinding]:
    """The latest open finding of each distinct problem, severest first."""
    return _latest_per_problem(await _newest_open(session, account_id), limit)


#: How many of an account's newest open findings one read takes.
_OPEN_READ = 200


async def _newest_open(session: AsyncSession, account_id: int) -> list[StoredFinding]:
    rows = await session.exec(
        select(StoredFinding)
        .where(
            StoredFinding.account_id == account_id,
            StoredFinding.status == FindingStatus.OPEN,
        )
        .order_by(col(StoredFinding.id).desc())
        .limit(_OPEN_READ)
    )
    return list(rows)


def _latest_per_problem(rows: Iterable[StoredFinding], limit: int) -> list[StoredFinding]:
    seen: dict[str, StoredFinding] = {}
    for row in rows:
        seen.setdefault(row.account_key, row)
    return sorted(seen.values(), key=lambda r: (severity_rank(r.severity), -(r.id or 0)))[:limit]


async def open_overview(
    session: AsyncSession, *, account_id: int, limit: int = 5
) -> tuple[list[tuple[str, str, int]], list[StoredFinding]]:
    """:func:`open_summary` and :func:`open_findings` from one read when the account has fewer
    open findings than one read takes (nearly always); the counting query runs only beyond."""
    rows = await _newest_open(session, account_id)
    latest = _latest_per_problem(rows, limit)
    if len(rows) == _OPEN_READ:
        return await open_summary(session, account_id=account_id), latest
    problems: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        problems.setdefault((row.category, row.severity), set()).add(row.account_key)
    return _severest_first([(c, s, len(keys)) for (c, s), keys in problems.items()]), latest


def _severest_first(summary: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    return sorted(summary, key=lambda r: (severity_rank(r[1]), r[0]))


async def waive(
    session: AsyncSession, *, finding_id: int, actor: Actor, reason: str, now: datetime
) -> int:
    """An admin waives a problem (all its occurrences on the account); returns rows closed."""
    if not actor.is_admin:
        raise PermissionDenied(N_("只有管理员可以豁免问题。"))
    finding = await session.get(StoredFinding, finding_id)
    if finding is None:
        raise NotFound(N_("找不到该问题。"))
    if finding.status != FindingStatus.OPEN:
        raise StaleAction(N_("该问题已处理。"))
    why = validate_reason(reason, label=N_("豁免理由"))
    result = await session.exec(
        sa.update(StoredFinding)
        .where(
            col(StoredFinding.account_id) == finding.account_id,
            col(StoredFinding.account_key) == finding.account_key,
            col(StoredFinding.status) == FindingStatus.OPEN,
        )
        .values(
            status=FindingStatus.WAIVED,
            closed_at=now,
            closed_by=actor.user_id,
            close_reason=why,
        )
    )
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="finding.waived",
        object_type="account",
        object_id=finding.account_id,
        before={"finding": finding.account_key, "status": "open"},
        after={"status": "waived", "reason": why},
        note=f"finding {finding_id}",
    )
    return int(result.rowcount or 0)
