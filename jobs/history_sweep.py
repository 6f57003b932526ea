"""The history sweep: after a word-list change, every stored post's findings follow the new lists.

New posts are checked with the current lists the moment they are stored; this job brings the
posts stored before a change up to date. It runs every minute (a singleton across replicas);
most runs find nothing to do: the lists' version (:attr:`workflows.checker.LiveChecker.version`)
equals the one the last sweep finished with. When they differ, the sweep (re)starts from the
first post and walks the posts in id order (keyset), ``BATCH`` at a time:

- differential (:mod:`governance.sweep`): a small automaton of the changed words picks the posts
  whose text contains one; only those get the full check (title and kept body, the same
  :func:`jobs.quality_scan.check_document` as new posts; where the body has expired, the title
  only). When words were only removed, the walk goes over the posts with findings citing them.
- findings: new ones are recorded as a new post's are (``findings.record_many``, whose one-post
  case ``record_post_findings`` new posts use; a batch in three statements); a veto finding new
  to the account alerts and joins the content case through
  :meth:`jobs.quality_scan.QualityScan.report_vetoes`, the alert's dedup key naming the finding,
  so a batch run twice queues nothing twice); dictionary findings the new lists no longer
  report are withdrawn (status ``withdrawn``: not a defect, not a rectification either; a case
  whose findings are all gone resolves on the next case check); a withdrawn finding reported
  again (a word put back) is reopened without a second alert. Where the body has expired, a
  body finding citing a removed word (or lying inside a new allow phrase, judged on its stored
  excerpt) is withdrawn without the text.
- progress: the cursor moves in the batch's own write transaction (:mod:`models.sweeps`), so a
  restart resumes after the last committed batch and a batch is never applied twice; replicas
  share the row's lease. A change of the lists during a sweep restarts it with the newer lists.
- responsiveness: the checks run in a worker thread and each batch's writes are one short
  transaction (the findings of a few posts and the cursor).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.quality import Checker
from governance.sweep import (
    Delta,
    Items,
    LiteralScan,
    SweepState,
    covered,
    delta,
    digest,
    items_of,
    load_items,
    word_dependent,
)
from jobs.quality_scan import Checked, QualityScan, check_document
from models import findings, posts, sweeps
from models.accounts import Account
from models.base import begin_writing
from models.findings import EXCERPT_CONTEXT, FindingStatus, StoredFinding
from models.postbody import expand_body
from workflows.checker import LiveChecker

if TYPE_CHECKING:
    from bot.settings import Settings

#: Posts read, pre-filtered and checked together; their findings are written in one transaction.
BATCH = 2000
#: How long a replica's hold on the walk lasts without a committed batch.
LEASE = timedelta(minutes=5)

Row = tuple[int, int, str, bytes | None]


class WalkEnd(StrEnum):
    """Why a walk stopped."""

    DONE = "done"  # every post reflects the target
    RESTART = "restart"  # the lists changed meanwhile: start again with the newer ones
    LOST = "lost"  # another replica holds the walk now, or restarted it
    PAUSED = "paused"  # ``max_batches`` reached; the next run resumes


@dataclass(slots=True)
class SweepSummary:
    """What one run of the job did (for logs, tests and the bench)."""

    started: bool = False
    finished: bool = False
    batches: int = 0
    posts: int = 0
    rechecked: int = 0
    found: int = 0
    withdrawn: int = 0


@dataclass(frozen=True, slots=True)
class Rechecked:
    """One post of a batch after the CPU work: its full check, if it was a candidate."""

    post_id: int
    account_id: int
    head_len: int
    body_kept: bool
    checked: Checked | None


@dataclass(slots=True)
class _Plan:
    target: Items
    digest: str
    delta: Delta
    scan: LiteralScan = field(init=False)

    def __post_init__(self) -> None:
        self.scan = LiteralScan(self.delta.literals)


def recheck_batch(
    checker: Checker,
    scan: LiteralScan,
    rows: Sequence[Row],
    *,
    all_candidates: bool,
) -> list[Rechecked]:
    """CPU work of a batch, off the event loop: expand, pre-filter, check the candidates."""
    out: list[Rechecked] = []
    for post_id, account_id, title, body in rows:
        text = expand_body(body)
        head = title.strip()
        candidate = all_candidates or scan.hits(head) or scan.hits(text)
        checked = (
            check_document(checker, title=title, html="", text=text, allowed_domains=frozenset())
            if candidate
            else None
        )
        out.append(Rechecked(post_id, account_id, len(head), body is not None, checked))
    return out


async def sweep_history(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    live: LiveChecker,
    settings: Settings,
    replica: str = "local",
    batch: int = BATCH,
    max_batches: int | None = None,
) -> SweepSummary:
    """Scheduled (every minute, one replica per occurrence): start, resume or finish the sweep.

    ``max_batches`` bounds one run (None: to the end); the next run resumes from the cursor."""
    scan = QualityScan(
        live=live, alert_chat_id=settings.alert_chat_id, cases=settings.case_policy()
    )
    async with sessionmaker() as session:
        await live.refresh(session)
    sweeper = HistorySweeper(
        sessionmaker=sessionmaker,
        clock=clock,
        live=live,
        scan=scan,
        replica=replica,
        batch=batch,
    )
    return await sweeper.run(max_batches=max_batches)


class HistorySweeper:
    """The machinery of one run; the state lives in ``history_sweeps``."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        live: LiveChecker,
        scan: QualityScan,
        replica: str,
        batch: int = BATCH,
    ) -> None:
        self.sessionmaker, self.clock, self.live, self.scan = sessionmaker, clock, live, scan
        self.replica, self.batch = replica, batch

    async def run(self, *, max_batches: int | None = None) -> SweepSummary:
        summary = SweepSummary()
        while True:
            plan = await self._prepare(summary)
            if plan is None:
                return summary
            outcome = await self._walk(plan, summary, max_batches)
            if outcome is not WalkEnd.RESTART:
                return summary

    async def _prepare(self, summary: SweepSummary) -> _Plan | None:
        """Start or restart the sweep if the lists changed; claim it; None: nothing to do here."""
        now = self.clock.now()
        target = items_of(self.live.custom)
        version = digest(target)
        async with self.sessionmaker() as session:
            row = await sweeps.current(session)
            if row is not None and row.target_digest != version:
                union, inter = load_items(row.union_items), load_items(row.inter_items)
                if row.state is SweepState.RUNNING:  # posts before the cursor reflect it
                    previous = load_items(row.target)
                    union, inter = union | previous, inter & previous
                change = delta(target, union=union, inter=inter)
                total = (
                    await findings.count_posts_citing(session, texts=sorted(change.cited))
                    if change.findings_only
                    else await posts.count_all(session)
                )
        if row is None:
            async with self.sessionmaker() as session:
                await begin_writing(session)
                await sweeps.record_baseline(session, target=target, now=now)
                await session.commit()
            return None
        if row.target_digest != version:
            async with self.sessionmaker() as session:
                await begin_writing(session)
                won = await sweeps.restart(
                    session,
                    previous_digest=row.target_digest,
                    target=target,
                    union=union,
                    inter=inter,
                    findings_only=change.findings_only,
                    total=0 if change.empty else total,
                    now=now,
                )
                await session.commit()
            if not won:
                return None  # another replica restarted it first; it walks
            summary.started = True
            logger.info(
                "history sweep started: {} items added, {} removed, {} posts to walk{}",
                len(change.added),
                len(change.removed),
                total,
                " (findings citing removed words only)" if change.findings_only else "",
            )
        elif row.state is not SweepState.RUNNING:
            return None
        else:
            union, inter = load_items(row.union_items), load_items(row.inter_items)
        async with self.sessionmaker() as session:
            await begin_writing(session)
            claimed = await sweeps.claim(
                session, holder=self.replica, target_digest=version, now=now, lease=LEASE
            )
            await session.commit()
        if not claimed:
            return None
        return _Plan(target=target, digest=version, delta=delta(target, union=union, inter=inter))

    async def _walk(self, plan: _Plan, summary: SweepSummary, max_batches: int | None) -> WalkEnd:
        """Batches until the end, a newer list or a lost lease (:class:`WalkEnd`).

        The next batch is read while the current one is checked (reading and checking overlap;
        the writes stay in order, each guarded by the cursor)."""
        change = plan.delta
        async with self.sessionmaker() as session:
            row = await sweeps.current(session)
        if row is None or row.target_digest != plan.digest or row.holder != self.replica:
            return WalkEnd.LOST
        ahead = asyncio.create_task(self._read(plan, row.cursor))
        try:
            while max_batches is None or summary.batches < max_batches:
                if self.live.version != plan.digest:
                    return WalkEnd.RESTART
                rows = await ahead
                if not rows:
                    return await self._finish(plan, summary)
                ahead = asyncio.create_task(self._read(plan, rows[-1][0]))
                checker = self.live.holder.current
                results = await asyncio.to_thread(
                    recheck_batch,
                    checker,
                    plan.scan,
                    rows,
                    all_candidates=change.findings_only,
                )
                if not await self._write(plan, results, summary, cursor=rows[-1][0]):
                    return WalkEnd.LOST
            return WalkEnd.PAUSED
        finally:
            if not ahead.done():
                ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ahead

    async def _read(self, plan: _Plan, cursor: int) -> list[Row]:
        """The batch after ``cursor``: every post (text walk) or those citing removed words."""
        change = plan.delta
        if change.empty:
            return []
        async with self.sessionmaker() as session:
            if change.findings_only:
                ids = await findings.posts_citing(
                    session, texts=sorted(change.cited), after=cursor, limit=self.batch
                )
                return await posts.texts_of(session, ids=ids)
            return await posts.text_batch(session, after=cursor, limit=self.batch)

    async def _finish(self, plan: _Plan, summary: SweepSummary) -> WalkEnd:
        async with self.sessionmaker() as session:
            await begin_writing(session)
            done = await sweeps.finish(
                session,
                holder=self.replica,
                target_digest=plan.digest,
                target=plan.target,
                now=self.clock.now(),
            )
            await session.commit()
        summary.finished = done
        if done:
            logger.info("history sweep finished: {}", summary)
        return WalkEnd.DONE if done else WalkEnd.LOST

    async def _write(
        self, plan: _Plan, results: list[Rechecked], summary: SweepSummary, *, cursor: int
    ) -> bool:
        """The batch's findings and the cursor, in one short transaction."""
        change = plan.delta
        now = self.clock.now()
        needs_rows = [
            r.post_id
            for r in results
            if r.checked is not None or (not r.body_kept and (change.cited or change.covering))
        ]
        found = withdrawn = rechecked = 0
        async with self.sessionmaker() as session:
            await begin_writing(session)
            stored = await findings.of_posts(
                session,
                post_ids=needs_rows,
                statuses=(FindingStatus.OPEN, FindingStatus.WITHDRAWN),
            )
            by_post: dict[int, list[StoredFinding]] = {}
            for f in stored:
                by_post.setdefault(f.post_id or 0, []).append(f)
            masks: dict[int, dict[str, str]] = {}
            stale: list[int] = []
            to_record: list[findings.PostFindings] = []
            to_reopen: list[int] = []
            for r in results:
                existing = by_post.get(r.post_id, [])
                if r.checked is not None:
                    rechecked += 1
                    record, reopen, gone = _reconcile(r, existing)
                    if record is not None:
                        to_record.append(record)
                        found += len(record.findings)
                    masks[r.post_id] = findings.pii_masks(r.checked.findings)
                    to_reopen += reopen
                    stale += gone
                if not r.body_kept:
                    stale += _expired_stale(r, existing, change)
            vetoes: dict[int, list[tuple[int, StoredFinding]]] = {}
            for f in await findings.record_many(session, posts=to_record, now=now):
                if f.severity == "veto":
                    vetoes.setdefault(f.account_id, []).append((f.post_id or 0, f))
            kept: dict[int, list[tuple[int, StoredFinding]]] = {}
            for f in await findings.reopen(session, ids=to_reopen):
                if f.severity == "veto":
                    kept.setdefault(f.account_id, []).append((f.post_id or 0, f))
            withdrawn = await findings.withdraw(session, ids=sorted(set(stale)), now=now)
            for account_id in sorted(set(vetoes) | set(kept)):
                account = await session.get(Account, account_id)
                if account is None:
                    continue
                await self.scan.report_vetoes(
                    session, account, vetoes.get(account_id, []), masks, now
                )
                await self.scan.report_vetoes(
                    session, account, kept.get(account_id, []), masks, now, alert=False
                )
            ours = await sweeps.advance(
                session,
                holder=self.replica,
                target_digest=plan.digest,
                cursor=cursor,
                posts=len(results),
                rechecked=rechecked,
                found=found,
                withdrawn=withdrawn,
                now=now,
                lease=LEASE,
            )
            if not ours:
                await session.rollback()
                return False
            await session.commit()
        summary.batches += 1
        summary.posts += len(results)
        summary.rechecked += rechecked
        summary.found += found
        summary.withdrawn += withdrawn
        return True


def _reconcile(
    r: Rechecked, existing: list[StoredFinding]
) -> tuple[findings.PostFindings | None, list[int], list[int]]:
    """A candidate post: its dictionary findings not stored yet (to record, excerpts masked
    with every piece of personal data the whole check found), the withdrawn ones reported
    again (to reopen), and the open ones no longer reported within the text checked (to
    withdraw). Findings already stored cost nothing."""
    assert r.checked is not None
    current = [f for f in r.checked.findings if word_dependent(f.rule)]
    keys = {(f.rule[:64], f.start) for f in current}
    known = {(f.rule, f.start) for f in existing}
    new = [f for f in current if (f.rule[:64], f.start) not in known]
    record = None
    if new:
        masks = findings.pii_masks(r.checked.findings)
        record = findings.PostFindings(
            r.account_id,
            r.post_id,
            r.checked.document,
            new,
            [findings.excerpt(r.checked.document, f, masks=masks) for f in new],
        )
    reopen = [
        f.id or 0
        for f in existing
        if f.status is FindingStatus.WITHDRAWN and (f.rule, f.start) in keys
    ]
    limit = len(r.checked.document) if r.body_kept else r.head_len
    gone = [
        f.id or 0
        for f in existing
        if f.status is FindingStatus.OPEN
        and word_dependent(f.rule)
        and f.end <= limit
        and (f.rule, f.start) not in keys
    ]
    return record, reopen, gone


def _expired_stale(r: Rechecked, existing: list[StoredFinding], change: Delta) -> list[int]:
    """Body findings of a post whose body has expired that cite a removed word, or lie inside a
    new allow phrase (judged on the stored excerpt): the text to re-check is gone."""
    out = []
    for f in existing:
        if f.status is not FindingStatus.OPEN or not word_dependent(f.rule) or f.end <= r.head_len:
            continue
        if f.text.lower() in change.cited:
            out.append(f.id or 0)
        elif change.covering:
            offset = f.start - max(0, f.start - EXCERPT_CONTEXT)
            if covered(f.excerpt, offset, f.end - f.start, change.covering):
                out.append(f.id or 0)
    return out
