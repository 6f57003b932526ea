"""What a report reads from the database: accounts in scope, their post times, poll health and
the findings of the period; the figures themselves are computed in governance.reporting."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import ActivityThresholds, PollHealth, is_feed_broken
from governance.evidence import PollFact, feed_reading
from governance.inspection import inspect
from governance.periods import Period
from governance.registry import AccountStatus
from governance.reporting import AccountInput, FindingInput, Report, build_report
from governance.review import ReviewStatus
from governance.scoring import ScoringRules
from governance.vocabulary import Severity
from governance.websites import WebsiteRules, load_website_rules
from models import audit, feeds, websites
from models.accounts import Account
from models.cases import Case
from models.feeds import Poll
from models.findings import FindingStatus, StoredFinding
from models.people import Unit
from models.posts import Post
from models.reposts import missed_counts, task_reports
from models.review_match import ReviewFlag
from models.reviews import Review

#: Accounts a report covers: registered and not withdrawn (closed ones show as closed).
REPORTED_STATUSES = (
    AccountStatus.ACTIVE,
    AccountStatus.RECTIFYING,
    AccountStatus.SUSPENDED,
    AccountStatus.CLOSED,
)
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


async def _counts(
    session: AsyncSession, stmt: Any, ids: Sequence[int], account_column: Any
) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks(ids):
        rows = await session.exec(stmt.where(account_column.in_(chunk)).group_by(account_column))
        found.update({account_id: int(n) for account_id, n in rows})
    return found


async def review_counts(
    session: AsyncSession, *, account_ids: Sequence[int], start: datetime, end: datetime
) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Per account in ``[start, end)``: drafts submitted for review (送审), drafts approved,
    and posts published without an approved draft (先审后发 broken)."""
    submitted = await _counts(
        session,
        select(Review.account_id, func.count()).where(
            Review.created_at >= start, Review.created_at < end
        ),
        account_ids,
        col(Review.account_id),
    )
    approved = await _counts(
        session,
        select(Review.account_id, func.count()).where(
            Review.status == ReviewStatus.APPROVED,
            col(Review.decided_at) >= start,
            col(Review.decided_at) < end,
        ),
        account_ids,
        col(Review.account_id),
    )
    unreviewed = await _counts(
        session,
        select(ReviewFlag.account_id, func.count()).where(
            ReviewFlag.published_at >= start, ReviewFlag.published_at < end
        ),
        account_ids,
        col(ReviewFlag.account_id),
    )
    return submitted, approved, unreviewed


async def case_counts(
    session: AsyncSession, *, account_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """Per account: rectification cases (整改) opened in ``[start, end)``."""
    return await _counts(
        session,
        select(Case.account_id, func.count()).where(Case.opened_at >= start, Case.opened_at < end),
        account_ids,
        col(Case.account_id),
    )


async def poll_facts(
    session: AsyncSession, *, account_ids: Sequence[int], since: datetime
) -> dict[int, list[PollFact]]:
    """Every recorded poll since ``since``, per account (what the feed said for the period)."""
    found: dict[int, list[PollFact]] = defaultdict(list)
    for chunk in _chunks(account_ids):
        rows = await session.exec(
            select(Poll).where(col(Poll.account_id).in_(chunk), Poll.started_at >= since)
        )
        for poll in rows:
            found[poll.account_id].append(
                PollFact(
                    poll.started_at, poll.outcome, poll.http_status, poll.items_seen, poll.error
                )
            )
    return dict(found)


async def oldest_items(session: AsyncSession, *, account_ids: Sequence[int]) -> dict[int, datetime]:
    """The oldest item each account's feed ever showed, counting or not."""
    found: dict[int, datetime] = {}
    for chunk in _chunks(account_ids):
        rows = await session.exec(
            select(Post.account_id, func.min(Post.published_at))
            .where(col(Post.account_id).in_(chunk))
            .group_by(col(Post.account_id))
        )
        found.update({account_id: when for account_id, when in rows if when is not None})
    return found


async def account_inputs(
    session: AsyncSession,
    *,
    unit_id: int | None,
    start: datetime,
    before: datetime,
    now: datetime | None = None,
    thresholds: ActivityThresholds | None = None,
    registration_known: bool = True,
    count_cases: bool = True,
    opened: Mapping[int, datetime] | None = None,
) -> list[AccountInput]:
    """Accounts registered before ``before`` (in one unit, or all), with all they need.

    ``registration_known`` is False for an inspector's throwaway import, whose registration
    dates are stand-ins; ``count_cases`` False leaves out cases (the audit's own)."""
    stmt = (
        select(Account, Unit.name)
        .join(Unit, col(Unit.id) == col(Account.unit_id))
        .where(col(Account.status).in_(REPORTED_STATUSES), Account.created_at < before)
        .order_by(col(Account.id))
    )
    if unit_id is not None:
        stmt = stmt.where(Account.unit_id == unit_id)
    rows = list(await session.exec(stmt))
    ids = [a.id or 0 for a, _unit in rows]
    times: dict[int, list[datetime]] = defaultdict(list)
    for chunk in _chunks(ids):
        found = await session.exec(
            select(Post.account_id, Post.published_at).where(
                col(Post.account_id).in_(chunk),
                col(Post.counts_as_activity).is_(True),
                Post.published_at < before,
            )
        )
        for account_id, when in found:
            times[account_id].append(when)
    states = await feeds.states_for(session, account_ids=ids)
    polls = await poll_facts(session, account_ids=ids, since=start)
    oldest = await oldest_items(session, account_ids=ids)
    submitted, approved, unreviewed = await review_counts(
        session, account_ids=ids, start=start, end=before
    )
    cases = await case_counts(session, account_ids=ids, start=start, end=before)
    missed = await missed_counts(session, account_ids=ids, start=start, end=before)
    current = now is not None and before >= now
    inputs = []
    for account, unit in rows:
        aid = account.id or 0
        state = states.get(aid)
        health = state.health() if state is not None else PollHealth(None)
        registered = account.decided_at or account.created_at
        broken = (
            current
            and state is not None
            and is_feed_broken(
                health,
                registered_at=registered,
                now=before,
                thresholds=thresholds or ActivityThresholds(),
            )
            and state.last_poll_at is not None
            and (state.last_success_at is None or state.last_poll_at > state.last_success_at)
        )
        inputs.append(
            AccountInput(
                id=aid,
                name=account.name,
                unit=unit,
                platform=account.platform,
                status=account.status,
                registered_at=registered,
                planned_per_week=account.posts_per_week,
                post_times=sorted(times.get(aid, [])),
                poll_health=health,
                polled=state is not None and state.last_poll_at is not None,
                cases=cases.get(aid, 0) if count_cases else None,
                reviews=submitted.get(aid, 0),
                approved=approved.get(aid, 0),
                unreviewed=unreviewed.get(aid, 0),
                reading=feed_reading(
                    polls.get(aid, []),
                    has_feed=bool(account.feed_url),
                    since=start,
                    last_success_at=state.last_success_at if state is not None else None,
                    broken_now=bool(broken),
                ),
                oldest_seen=oldest.get(aid),
                registered_known=registration_known,
                opened_at=(opened or {}).get(aid),
                reposts_missed=missed.get(aid, 0),
            )
        )
    return inputs


async def finding_inputs(
    session: AsyncSession, *, account_ids: Sequence[int], start: datetime, end: datetime
) -> list[FindingInput]:
    """Findings in posts published in ``[start, end)`` (or found then, for a finding without a
    post), with the title and link of their post: a report on a past quarter shows that
    quarter's problems even when they were found later."""
    result: list[FindingInput] = []
    # A finding counts by its post's date, or by when it was found if it has no post. Written
    # as an OR, not coalesce(): the post's date is stored as seconds (UTCSeconds), the finding's
    # as a timestamp, so each side binds its bounds through its own column type.
    in_period = sa.or_(
        sa.and_(col(Post.published_at) >= start, col(Post.published_at) < end),
        sa.and_(
            col(Post.id).is_(None),
            col(StoredFinding.found_at) >= start,
            col(StoredFinding.found_at) < end,
        ),
    )
    for chunk in _chunks(account_ids):
        rows = await session.exec(
            select(StoredFinding, Post.title, Post.link, Post.published_at)
            .outerjoin(Post, col(Post.id) == col(StoredFinding.post_id))
            .where(
                col(StoredFinding.account_id).in_(chunk),
                in_period,
            )
            .order_by(col(StoredFinding.found_at), col(StoredFinding.id))
        )
        result += [
            FindingInput(
                account_id=f.account_id,
                category=f.category,
                severity=f.severity,
                problem=f.account_key,
                text=f.text,
                excerpt=f.excerpt,
                title=title or "",
                link=link,
                found_at=f.found_at,
                status=f.status,
                published_at=published,
            )
            for f, title, link, published in rows
        ]
    return result


async def open_vetoes(
    session: AsyncSession, *, account_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Distinct open veto problems per account and category, whenever found (the inspection
    asks whether they are still there, not when they appeared)."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for chunk in _chunks(account_ids):
        rows = await session.exec(
            select(
                StoredFinding.account_id,
                StoredFinding.category,
                func.count(func.distinct(StoredFinding.account_key)),
            )
            .where(
                col(StoredFinding.account_id).in_(chunk),
                StoredFinding.severity == Severity.VETO,
                StoredFinding.status == FindingStatus.OPEN,
            )
            .group_by(col(StoredFinding.account_id), col(StoredFinding.category))
        )
        for account_id, category, n in rows:
            found[account_id][category] = int(n)
    return dict(found)


async def make_report(
    session: AsyncSession,
    *,
    period: Period,
    unit_id: int | None,
    scope: str,
    now: datetime,
    tz: ZoneInfo,
    rules: ScoringRules,
    thresholds: ActivityThresholds,
    inspection_seed: int | None = None,
    inspection_ratio: float | None = None,
    registration_known: bool = True,
    count_cases: bool = True,
    opened: Mapping[int, datetime] | None = None,
    website_rules: WebsiteRules | None = None,
) -> Report:
    """The report of a period and scope; with a seed, also the inspection of a sample."""
    start, end = period.bounds(tz)
    accounts = await account_inputs(
        session,
        unit_id=unit_id,
        start=start,
        before=min(end, now),
        now=now,
        thresholds=thresholds,
        registration_known=registration_known,
        count_cases=count_cases,
        opened=opened,
    )
    # websites are accounts in the registry but have their own rules and sheet
    site_ids = await websites.website_ids(session, account_ids=[a.id for a in accounts])
    accounts = [a for a in accounts if a.id not in site_ids]
    ids = [a.id for a in accounts]
    findings = await finding_inputs(session, account_ids=ids, start=start, end=end)
    report = build_report(
        accounts,
        findings,
        period=period,
        scope=scope,
        now=now,
        tz=tz,
        rules=rules,
        thresholds=thresholds,
    )
    sites = await websites.website_lines(
        session,
        unit_id=unit_id,
        as_of=min(end, now),
        tz=tz,
        rules=website_rules or load_website_rules(),
        scoring=rules,
    )
    report = replace(report, websites=tuple(sites))
    tasks = await task_reports(session, start=start, end=end, now=now, unit_id=unit_id)
    if tasks:
        report = replace(report, reposts=tuple(tasks))
    if inspection_seed is None:
        return report
    return inspect(
        report,
        open_vetoes=await open_vetoes(session, account_ids=ids),
        seed=inspection_seed,
        rules=rules,
        tz=tz,
        ratio=inspection_ratio,
    )


async def record_inspection(
    session: AsyncSession, *, report: Report, actor_id: int, unit_id: int | None, now: datetime
) -> None:
    """Audit the draw (seed, ratio, accounts drawn), so anyone can repeat and check it."""
    assert report.inspection is not None
    await audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action="report.inspection",
        object_type="unit",
        object_id=unit_id or 0,
        after={
            "period": report.period.label,
            "seed": report.inspection.seed,
            "ratio": report.inspection.ratio,
            "sampled": [v.account.account.id for v in report.inspection.verdicts],
        },
    )
