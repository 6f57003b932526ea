"""Evaluate every monitored account's activity and drive its alerts through the outbox.

For each account polled at least once: compute the activity report from stored post times and
the poll health (:func:`governance.activity.compute_activity`), decide what to say
(:mod:`governance.alerts`), and write the new alert state, the audit row and the outbox rows in
one transaction, each outbox row with a dedup key, so a crash or a second run sends nothing
twice. An account whose evaluation would change nothing (:func:`settled`, decided from bulk
reads) is not written at all, so a steady office's pass takes no write lock. Messages are stored
as kinds plus parameters and rendered in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import (
    ActivityReport,
    ActivityThresholds,
    DormancyState,
    PollHealth,
    compute_activity,
)
from governance.alerts import (
    DORMANCY_AUDIENCE,
    FEED_AUDIENCE,
    Action,
    Audience,
    Decision,
    decide_dormancy,
    decide_feed,
)
from governance.cases import CaseKind, CasePolicy
from governance.clock import Clock
from jobs.slices import LoopShare, Replies
from models import alerts, audit, posts
from models.accounts import Account
from models.activity import account_report
from models.base import begin_writing
from models.cases import Case, active_key
from models.feeds import POLLED_STATUSES, FeedState
from models.people import Unit
from workflows import cases as rectification
from workflows.audience import To
from workflows.notices import (
    DormancyAlert,
    FeedBrokenAlert,
    FeedRecoveredAlert,
    Notice,
    RecoveredAlert,
)
from workflows.notify import notify

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.settings import Settings

#: Accounts read and computed together (bulk reads, no write lock held).
BATCH = 100
#: Accounts written per transaction: short, so the chat's writes wait little for the lock.
WRITE_BATCH = 10


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    thresholds: ActivityThresholds
    repeat_every: timedelta
    alert_chat_id: int | None
    tz: ZoneInfo
    cases: CasePolicy = field(default_factory=CasePolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        return cls(
            thresholds=settings.activity_thresholds(),
            repeat_every=timedelta(days=settings.alert_repeat_days),
            alert_chat_id=settings.alert_chat_id,
            tz=settings.tz,
            cases=settings.case_policy(),
        )


@dataclass(slots=True)
class EvaluationSummary:
    evaluated: int = 0
    queued: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.actions[name] = self.actions.get(name, 0) + 1


async def evaluate_accounts(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    replies: Replies | None = None,
) -> EvaluationSummary:
    """Scheduled job: every polled account, in batches of one transaction each. ``replies``:
    the chat in this process, which goes first between batches (:class:`jobs.slices.LoopShare`)."""
    policy = AlertPolicy.from_settings(settings)
    now = clock.now()
    summary = EvaluationSummary()
    share = LoopShare(replies)
    after = 0
    while chunk := await _next_polled(sessionmaker, after=after):
        after = chunk[-1]
        await share.checkpoint()
        # Read and compute without the write lock (the chat writes on every update), then
        # write in short transactions, yielding to the loop between them.
        reports = await _reports(
            sessionmaker, chunk, now=now, thresholds=policy.thresholds, share=share
        )
        # An account whose evaluation would change nothing is not written at all (most of them,
        # most of the time): no write lock, no row rewritten only to say "evaluated again".
        changing = await _unsettled(sessionmaker, chunk, reports=reports, now=now, policy=policy)
        summary.evaluated += len(chunk) - len(changing)
        for offset in range(0, len(changing), WRITE_BATCH):
            await _write_batch(
                sessionmaker,
                changing[offset : offset + WRITE_BATCH],
                reports=reports,
                now=now,
                policy=policy,
                summary=summary,
            )
            await share.checkpoint()
    if summary.queued:
        logger.info("evaluation: {} accounts, {} queued", summary.evaluated, summary.queued)
    return summary


async def _next_polled(sessionmaker: async_sessionmaker[AsyncSession], *, after: int) -> list[int]:
    """The next :data:`BATCH` polled accounts by id: a keyset page, so a pass over 110,000
    accounts never loads all their ids in one go (a 100 ms stop of the loop, replies behind it)."""
    async with sessionmaker() as session:
        rows = await session.exec(
            select(Account.id)
            .join(FeedState, col(FeedState.account_id) == Account.id)
            .where(
                col(Account.id) > after,
                col(Account.status).in_(POLLED_STATUSES),
                col(Account.feed_url).is_not(None),
                col(FeedState.last_poll_at).is_not(None),
            )
            .order_by(col(Account.id))
            .limit(BATCH)
        )
        return [account_id or 0 for account_id in rows]


async def _reports(
    sessionmaker: async_sessionmaker[AsyncSession],
    account_ids: list[int],
    *,
    now: datetime,
    thresholds: ActivityThresholds,
    share: LoopShare,
) -> dict[int, ActivityReport]:
    """The activity reports of ``account_ids`` from three bulk reads, computed on the loop in
    slices (the replies go first between accounts; see :mod:`jobs.slices` for why no thread)."""
    async with sessionmaker() as session:
        accounts = await session.exec(select(Account).where(col(Account.id).in_(account_ids)))
        feeds = await session.exec(
            select(FeedState).where(col(FeedState.account_id).in_(account_ids))
        )
        health = {feed.account_id: feed.health() for feed in feeds}
        inputs = [
            (
                account.id or 0,
                account.decided_at or account.created_at,
                account.posts_per_week,
                health.get(account.id or 0, PollHealth(last_success=None)),
            )
            for account in accounts
        ]
        times = await posts.activity_times_of(session, account_ids=account_ids)

    reports: dict[int, ActivityReport] = {}
    for account_id, registered_at, planned, poll_health in inputs:
        await share.slice()
        reports[account_id] = compute_activity(
            times.get(account_id, []),
            registered_at=registered_at,
            planned_per_week=planned,
            now=now,
            poll_health=poll_health,
            thresholds=thresholds,
        )
    return reports


def settled(
    memory: alerts.AlertState | None,
    report: ActivityReport,
    *,
    now: datetime,
    policy: AlertPolicy,
    dormant_case: bool,
) -> bool:
    """Whether :func:`evaluate_account` would change nothing for this account now.

    True when neither track moves (no alert to raise, repeat, settle or recover), the stored
    figures are the report's, and the dormancy case is as it should be (open while dormant,
    none while active). ``dormant_case``: the account has an active dormancy case.
    """
    if memory is None:
        return False
    dormancy = decide_dormancy(
        memory.dormancy_track(), report.state, now=now, repeat_every=policy.repeat_every
    )
    health = decide_feed(
        memory.feed_track(), report.feed_broken, now=now, repeat_every=policy.repeat_every
    )
    if dormancy.action is not Action.NONE or health.action is not Action.NONE:
        return False
    if (memory.below_plan, memory.days_since_last_post) != (
        report.below_plan,
        report.days_since_last_post,
    ):
        return False
    if report.state.severity >= DormancyState.DORMANT.severity:
        return dormant_case
    if report.state is DormancyState.ACTIVE:
        return not dormant_case
    return True


async def _unsettled(
    sessionmaker: async_sessionmaker[AsyncSession],
    account_ids: list[int],
    *,
    reports: dict[int, ActivityReport],
    now: datetime,
    policy: AlertPolicy,
) -> list[int]:
    """The accounts of ``account_ids`` whose evaluation would change something (two reads)."""
    async with sessionmaker() as session:
        memories = {
            m.account_id: m
            for m in await session.exec(
                select(alerts.AlertState).where(col(alerts.AlertState.account_id).in_(account_ids))
            )
        }
        keys = {active_key(a, CaseKind.DORMANT): a for a in account_ids}
        dormant = {
            keys[key]
            for key in await session.exec(
                select(Case.active_key).where(col(Case.active_key).in_(list(keys)))
            )
            if key is not None
        }
    return [
        account_id
        for account_id in account_ids
        if account_id not in reports
        or not settled(
            memories.get(account_id),
            reports[account_id],
            now=now,
            policy=policy,
            dormant_case=account_id in dormant,
        )
    ]


async def _write_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
    account_ids: list[int],
    *,
    reports: dict[int, ActivityReport],
    now: datetime,
    policy: AlertPolicy,
    summary: EvaluationSummary,
) -> None:
    """Decide and write a few accounts in one short write transaction."""
    async with sessionmaker() as session:
        await begin_writing(session)  # savepoints below must not start a stale snapshot
        # Load the rows in three queries; session.get below finds them in the identity map
        # (which holds objects weakly: ``loaded`` keeps them alive).
        loaded: list[Any] = [
            *await session.exec(select(Account).where(col(Account.id).in_(account_ids))),
            *await session.exec(
                select(FeedState).where(col(FeedState.account_id).in_(account_ids))
            ),
            *await session.exec(
                select(alerts.AlertState).where(col(alerts.AlertState.account_id).in_(account_ids))
            ),
        ]
        for account_id in account_ids:
            try:  # one account's bad data must not silence every account after it
                async with session.begin_nested():
                    await evaluate_account(
                        session,
                        account_id=account_id,
                        now=now,
                        policy=policy,
                        summary=summary,
                        report=reports.get(account_id),
                    )
            except Exception:
                logger.exception("evaluating account {} failed", account_id)
        await session.commit()
        del loaded


async def evaluate_account(
    session: AsyncSession,
    *,
    account_id: int,
    now: datetime,
    policy: AlertPolicy,
    summary: EvaluationSummary | None = None,
    report: ActivityReport | None = None,
) -> None:
    """Evaluate one account; ``report`` when the caller computed it already (in bulk)."""
    summary = summary if summary is not None else EvaluationSummary()
    account = await session.get(Account, account_id)
    feed = await session.get(FeedState, account_id)
    if account is None or feed is None:
        return
    if report is None:
        report = await account_report(
            session, account=account, state=feed, now=now, thresholds=policy.thresholds
        )
    memory = await alerts.get_or_new(session, account_id)
    dormancy = decide_dormancy(
        memory.dormancy_track(), report.state, now=now, repeat_every=policy.repeat_every
    )
    health = decide_feed(
        memory.feed_track(), report.feed_broken, now=now, repeat_every=policy.repeat_every
    )
    summary.evaluated += 1
    context = _Context(session=session, account=account, report=report, now=now, policy=policy)
    if dormancy.action is not Action.NONE:
        summary.count(f"dormancy.{dormancy.action.value}")
        await _audit_dormancy(context, dormancy.previous.state, dormancy.track.state, dormancy)
        if dormancy.action in (Action.RAISE, Action.REPEAT):
            state = dormancy.track.state
            facts = await context.facts(episode=_stamp(dormancy.track.since))
            summary.queued += await context.send(
                DORMANCY_AUDIENCE[state],
                DormancyAlert(**facts, state=state.value, repeat=dormancy.track.repeats),
            )
        elif dormancy.action is Action.RECOVER:
            previous = dormancy.previous.state
            facts = await context.facts(episode=_stamp(dormancy.previous.since))
            summary.queued += await context.send(
                DORMANCY_AUDIENCE[previous], RecoveredAlert(**facts, previous=previous.value)
            )
    if health.action is not Action.NONE:
        summary.count(f"feed.{health.action.value}")
        since = health.track.since if health.track.broken else health.previous.since
        if health.action is not Action.REPEAT:
            await audit.record(
                session,
                at=now,
                actor_id=None,
                action="account.feed_broken" if health.track.broken else "account.feed_recovered",
                object_type="account",
                object_id=account_id,
                before={"feed_broken": health.previous.broken},
                after={"feed_broken": health.track.broken, "outcome": feed.last_outcome},
            )
        about = await context.about()
        fields = {
            **about,
            "outcome": feed.last_outcome or "",
            "status": feed.last_status,
            "error": feed.last_error or "",
            "failures": feed.consecutive_failures,
            "last_success": _datetime(feed.last_success_at, policy.tz),
            "repeat": health.track.repeats if health.track.broken else 0,
            "episode": _stamp(since),
        }
        notice = FeedBrokenAlert(**fields) if health.track.broken else FeedRecoveredAlert(**fields)
        summary.queued += await context.send(FEED_AUDIENCE, notice)
    await _rectification(context)
    memory.apply(dormancy=dormancy.track, feed=health.track)
    memory.below_plan = report.below_plan
    memory.evaluated_at = now
    memory.days_since_last_post = report.days_since_last_post
    session.add(memory)
    await session.flush()


@dataclass(slots=True)
class _Context:
    session: AsyncSession
    account: Account
    report: ActivityReport
    now: datetime
    policy: AlertPolicy

    async def send(self, audience: frozenset[Audience], notice: Notice) -> int:
        """Queue ``notice`` once per distinct chat of ``audience``; return how many were new."""
        return await notify(
            self.session,
            notice,
            to=To(audience=audience, account=self.account),
            now=self.now,
            alert_chat_id=self.policy.alert_chat_id,
        )

    async def about(self) -> dict[str, Any]:
        account = self.account
        unit = await self.session.get(Unit, account.unit_id)
        return {
            "account_id": account.id or 0,
            "name": account.name,
            "platform": account.platform,
            "unit": unit.name if unit else "",
        }

    async def facts(self, *, episode: str) -> dict[str, Any]:
        """The fields of :class:`ActivityFacts` as they stand now."""
        account, report = self.account, self.report
        last = await posts.last_activity_post(self.session, account_id=account.id or 0)
        return {
            **await self.about(),
            "days": report.days_since_last_post,
            "last_title": last.title if last else "",
            "last_link": last.link if last and last.link else "",
            "last_date": _date(last.published_at if last else None, self.policy.tz),
            "posts_30d": report.posts_30d,
            "planned": account.posts_per_week,
            "dormant_days": self.policy.thresholds.dormant_days,
            "episode": episode,
        }


async def _rectification(context: _Context) -> None:
    """A dormant account has a case (opened once); one that posts again has it resolved."""
    state, account = context.report.state, context.account
    if state.severity >= DormancyState.DORMANT.severity:
        await rectification.ensure_case(
            context.session,
            account=account,
            kind=CaseKind.DORMANT,
            problems=[{"kind": "dormant", "days": context.report.days_since_last_post}],
            now=context.now,
            policy=context.policy.cases,
        )
    elif state is DormancyState.ACTIVE:
        await rectification.resolve_dormant(
            context.session,
            account_id=account.id or 0,
            now=context.now,
            policy=context.policy.cases,
        )


async def _audit_dormancy(
    context: _Context, before: DormancyState, after: DormancyState, decision: Decision
) -> None:
    if decision.action is Action.REPEAT:
        return
    await audit.record(
        context.session,
        at=context.now,
        actor_id=None,
        action="account.activity_changed",
        object_type="account",
        object_id=context.account.id,
        before={"activity": before.value},
        after={
            "activity": after.value,
            "days_since_last_post": context.report.days_since_last_post,
        },
    )


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%d%H%M%S") if moment else "-"


def _datetime(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def _date(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d") if moment else ""


async def evaluate_some(
    session: AsyncSession, *, account_ids: Sequence[int], now: datetime, policy: AlertPolicy
) -> EvaluationSummary:
    """Evaluate the given accounts in the caller's transaction (tests, /check)."""
    summary = EvaluationSummary()
    for account_id in account_ids:
        await evaluate_account(
            session, account_id=account_id, now=now, policy=policy, summary=summary
        )
    return summary
