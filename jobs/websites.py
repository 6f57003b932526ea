"""Website jobs: the home page availability probe and the daily judgement against the rules.

:func:`probe_websites` visits each due home page once (the 15 s limit of the indicator, the
guard and size cap of feeds, no conditional request: a visit must really open the page), counts
the visit in its local day and schedules the next one at a random moment of the next slot
(:func:`governance.websites.next_probe_at`: ≥ 20 irregular visits a day). A run of failed
visits raises an outage alert once; the first visit that opens again sends the recovery notice.

:func:`evaluate_websites` judges every watched website (:func:`governance.websites.judge_website`)
and keeps its verdict on the website row. A veto rule that starts failing alerts the website's
people and the office and opens (or extends) the website's rectification case; when no veto rule
fails any more the case is resolved. Everything is written with its audit row and its notices
in one transaction per website, each notice with a dedup key, so a second run sends nothing twice.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.fetch import FetchResult, fetch_feed
from feeds.outcome import PollOutcome
from feeds.politeness import HostPacer, host_key
from governance.alerts import VETO_AUDIENCE
from governance.cases import CaseKind
from governance.clock import Clock
from governance.websites import (
    INDICATORS,
    WebsiteRule,
    WebsiteRules,
    WebsiteVerdict,
    judge_website,
    next_probe_at,
)
from jobs.polltypes import USER_AGENT, guard_policy
from models import audit, websites
from models.accounts import Account
from models.base import begin_writing
from models.people import Unit
from models.websites import Website
from workflows import cases as rectification
from workflows.audience import To
from workflows.notices import Notice, SiteDownAlert, SiteRecoveredAlert, WebsiteVetoAlert
from workflows.notify import notify

if TYPE_CHECKING:
    from bot.settings import Settings

#: A visit that got an answer but not the page: these outcomes count as "打不开".
_FAILED = frozenset(
    {
        PollOutcome.TIMEOUT,
        PollOutcome.NETWORK,
        PollOutcome.SERVER_ERROR,
        PollOutcome.EMPTY_BODY,
        PollOutcome.MISCONFIGURED,
        PollOutcome.BAD_URL,
        PollOutcome.FORBIDDEN_ADDRESS,
        PollOutcome.RATE_LIMITED,
    }
)
#: Veto rules whose failure opens the website case (严重错误 opens the content case itself).
CASE_RULES = (WebsiteRule.AVAILABILITY, WebsiteRule.HOME_UPDATE, WebsiteRule.COLUMN_UPDATE)


@dataclass(slots=True)
class ProbeSummary:
    visited: int = 0
    failed: int = 0
    alerts: int = 0


def visit_failed(result: FetchResult) -> bool:
    """Whether a visit counts as the page not opening (within the limit)."""
    if result.outcome in _FAILED:
        return True
    return result.status is None or result.status >= 400


async def probe_websites(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    http: aiohttp.ClientSession,
    rng: random.Random | None = None,
) -> ProbeSummary:
    """Scheduled job: visit every home page whose next visit is due."""
    rng = rng or random.Random()
    rules = settings.website_rules()
    now = clock.now()
    async with sessionmaker() as session:
        due = await websites.due_probes(session, now=now, limit=settings.poll_max_per_tick)
    summary = ProbeSummary()
    if not due:
        return summary
    pacer = HostPacer(per_host=settings.poll_per_host, spacing=settings.poll_host_spacing_ms / 1000)
    gate = asyncio.Semaphore(settings.poll_concurrency)

    async def visit(url: str) -> tuple[datetime, FetchResult]:
        async with gate, pacer.slot(host_key(url)):
            started = clock.now()
            return started, await fetch_feed(
                http,
                url,
                policy=guard_policy(settings),
                timeout=rules.timeout_seconds,
                user_agent=USER_AGENT,
                max_bytes=settings.feed_max_bytes,
                clock=clock.now,
            )

    results = await asyncio.gather(*(visit(url) for _id, url in due))
    async with sessionmaker() as session:
        await begin_writing(session)
        for (account_id, _url), (started, result) in zip(due, results, strict=True):
            try:
                async with session.begin_nested():
                    summary.alerts += await _record_visit(
                        session,
                        account_id=account_id,
                        started=started,
                        result=result,
                        settings=settings,
                        rules=rules,
                        jitter=rng.random(),
                    )
            except Exception:
                logger.exception("recording the visit of website {} failed", account_id)
                continue
            summary.visited += 1
            summary.failed += visit_failed(result)
        await session.commit()
    return summary


async def _record_visit(
    session: AsyncSession,
    *,
    account_id: int,
    started: datetime,
    result: FetchResult,
    settings: Settings,
    rules: WebsiteRules,
    jitter: float,
) -> int:
    site = await session.get(Website, account_id)
    account = await session.get(Account, account_id)
    if site is None or account is None:
        return 0
    failed = visit_failed(result)
    ms = int(result.elapsed_seconds * 1000)
    day = started.astimezone(settings.tz).date()
    await websites.tally_probe(session, account_id=account_id, day=day, ok=not failed, ms=ms)
    error = result.error or (f"HTTP {result.status}" if result.status else result.outcome.value)
    site.last_probe_at, site.last_probe_ok, site.last_probe_ms = started, not failed, ms
    site.last_probe_error = error[:300] if failed else None
    site.probe_failures = site.probe_failures + 1 if failed else 0
    site.next_probe_at = next_probe_at(
        started, per_day=settings.website_probes_per_day, jitter=jitter, tz=settings.tz
    )
    queued = 0
    about = await _about(session, account)
    if failed and site.probe_failures >= rules.outage_after and site.down_since is None:
        site.down_since = started
        await _audit(session, account_id, "website.down", started, {"error": error[:300]})
        notice: Notice = SiteDownAlert(
            **about,
            url=site.home_url,
            failures=site.probe_failures,
            error=error[:300],
            since=_local(started, settings),
            episode=_stamp(started),
        )
        queued += await _send(session, account, notice, started, settings)
    elif not failed and site.down_since is not None:
        since, site.down_since = site.down_since, None
        await _audit(session, account_id, "website.recovered", started, {"since": _stamp(since)})
        notice = SiteRecoveredAlert(
            **about, url=site.home_url, since=_local(since, settings), episode=_stamp(since)
        )
        queued += await _send(session, account, notice, started, settings)
    session.add(site)
    await session.flush()
    return queued


# --- evaluation -------------------------------------------------------------------------------


@dataclass(slots=True)
class WebsiteEvaluation:
    evaluated: int = 0
    queued: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


async def evaluate_websites(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> WebsiteEvaluation:
    """Scheduled job: judge every watched website; one transaction per website."""
    now = clock.now()
    rules = settings.website_rules()
    scoring = settings.scoring_rules()
    async with sessionmaker() as session:
        ids = await websites.watched_website_ids(session)
    summary = WebsiteEvaluation()
    for account_id in ids:
        try:
            async with sessionmaker() as session:
                await begin_writing(session)
                facts = await websites.website_facts(
                    session, account_id=account_id, now=now, tz=settings.tz, days=rules.days
                )
                verdict = judge_website(facts, now=now, rules=rules, scoring=scoring)
                summary.queued += await _apply(
                    session, account_id=account_id, verdict=verdict, now=now, settings=settings
                )
                await session.commit()
        except Exception:  # one website's bad data must not silence the others
            logger.exception("evaluating website {} failed", account_id)
            continue
        summary.evaluated += 1
        summary.outcomes[verdict.outcome] = summary.outcomes.get(verdict.outcome, 0) + 1
    return summary


def reason_text(rule: WebsiteRule, reason: str, params: dict[str, object]) -> str:
    """A rule result in Chinese, for stored evidence (case problems, alerts)."""
    try:
        return f"{INDICATORS[rule]}：{reason.format(**params)}"
    except (KeyError, IndexError):
        return f"{INDICATORS[rule]}：{reason}"


async def _apply(
    session: AsyncSession,
    *,
    account_id: int,
    verdict: WebsiteVerdict,
    now: datetime,
    settings: Settings,
) -> int:
    site = await session.get(Website, account_id)
    account = await session.get(Account, account_id)
    if site is None or account is None:
        return 0
    failing = [r for r in verdict.vetoes]
    names = [r.rule.value for r in failing]
    before = list(site.vetoes)
    queued = 0
    if names != before:
        await _audit(
            session,
            account_id,
            "website.vetoes_changed",
            now,
            {"vetoes": names},
            {"vetoes": before},
        )
        if names and not before:
            site.vetoes_since = now
        elif not names:
            site.vetoes_since = None
    about = await _about(session, account)
    episode = _stamp(site.vetoes_since or now)
    for result in failing:
        if result.rule.value in before or result.rule not in CASE_RULES:
            continue  # 严重错误 was alerted, with its case, when the content check found it
        values = {k: v if isinstance(v, int) else str(v) for k, v in result.params.items()}
        notice = WebsiteVetoAlert(
            **about,
            rule=result.rule.value,
            indicator=result.indicator,
            reason=result.reason,
            values=values,
            episode=f"{episode}:{_stamp(now)}",
        )
        queued += await _send(session, account, notice, now, settings)
    case_problems = [
        {
            "kind": "website",
            "rule": r.rule.value,
            "text": reason_text(r.rule, r.reason, dict(r.params)),
        }
        for r in failing
        if r.rule in CASE_RULES
    ]
    if case_problems:
        await rectification.ensure_case(
            session,
            account=account,
            kind=CaseKind.WEBSITE,
            problems=case_problems,
            now=now,
            policy=settings.case_policy(),
        )
    else:
        await rectification.resolve_website(
            session, account_id=account_id, now=now, policy=settings.case_policy()
        )
    site.vetoes = names
    site.outcome, site.points, site.evaluated_at = verdict.outcome, verdict.points, now
    session.add(site)
    await session.flush()
    return queued


# --- helpers ------------------------------------------------------------------------------------


async def _about(session: AsyncSession, account: Account) -> dict[str, Any]:
    unit = await session.get(Unit, account.unit_id)
    return {
        "account_id": account.id or 0,
        "name": account.name,
        "platform": account.platform,
        "unit": unit.name if unit else "",
    }


async def _send(
    session: AsyncSession, account: Account, notice: Notice, now: datetime, settings: Settings
) -> int:
    return await notify(
        session,
        notice,
        to=To(audience=VETO_AUDIENCE, account=account),
        now=now,
        alert_chat_id=settings.alert_chat_id,
    )


async def _audit(
    session: AsyncSession,
    account_id: int,
    action: str,
    at: datetime,
    after: dict[str, object],
    before: dict[str, object] | None = None,
) -> None:
    await audit.record(
        session,
        at=at,
        actor_id=None,
        action=action,
        object_type="account",
        object_id=account_id,
        before=before,
        after=after,
    )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def _local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
