"""``python -m bot audit LEDGER --out report.xlsx``: the report for an inspector with a ledger only.

No bot token and no database: the ledger is imported into a throwaway SQLite database (same
validation as the bot; rows with problems are listed and left out), every feed is polled once
with the real poller (SSRF guard on: only http(s), no private addresses unless
``ALLOW_PRIVATE_FEEDS``), every new post goes through the content checks, and the report is
computed by the same code as /report. The ledger does not say when an account was registered:
days without posts are counted only from what the feeds show (the last post seen), an account
whose feed shows nothing it could count from is 无法评估, and a feed whose history does not
reach back to a past period says 覆盖不足. Cases the audit itself opens are not reported (the
ledger's statuses are), and a feed that cannot be read is 无法评估 with its fault. A ledger may
carry an extra 开设日期 column: an account whose feed shows no post then counts its silence
from that date (and the report says so).

Exit status: 0 written, 1 no usable row in the ledger, 2 the file or the settings cannot be used.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.ledgercli import problem_line
from bot.settings import Settings
from documents.ledgerbook import read_named_sheet, read_table
from documents.reports import render
from documents.reporttext import summary_lines
from feeds.fetch import make_feed_session
from feeds.parsing import FeedParser
from governance.clock import Clock, SystemClock
from governance.errors import UserFacingError
from governance.ledger import opening_dates
from governance.periods import Period, parse_dates, period_for
from governance.reporting import Report
from governance.websiteledger import SHEET_WEBSITES, parse_website_rows
from jobs.columns import watch_columns
from jobs.poll import poll_feeds
from jobs.polltypes import PollerConfig
from jobs.quality_scan import QualityScan
from models import feeds, ledger, people, reports
from models.accounts import Account
from workflows.checker import LiveChecker
from workflows.websites import import_websites

AUDITOR_ID = 1  # the throwaway database's only person, who "imports" the ledger


@dataclass(frozen=True, slots=True)
class AuditOptions:
    period: str = "quarter"
    """A period kind (week, month, quarter, year, last_month, last_quarter) or dates."""
    inspect: bool = False
    seed: int | None = None
    ratio: float | None = None
    charts: Path | None = None


def resolve_period(text: str, today: date) -> Period:
    if text in {"week", "month", "quarter", "year", "last_month", "last_quarter"}:
        return period_for(text, today)
    return parse_dates(text, today)


def audit_file(
    settings: Settings,
    path: Path,
    out_path: Path,
    *,
    options: AuditOptions | None = None,
    clock: Clock | None = None,
    out: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    options = options or AuditOptions()
    clock = clock or SystemClock()
    try:
        period = resolve_period(options.period, clock.now().astimezone(settings.tz).date())
        data = path.read_bytes()
        table = read_table(data, path.name)
        sites = read_named_sheet(data, SHEET_WEBSITES)
    except OSError as exc:
        print(f"无法读取文件：{exc}", file=out)
        return 2
    except UserFacingError as exc:
        print(str(exc), file=out)
        return 2
    with tempfile.TemporaryDirectory(prefix="gov-audit-") as tmp:
        local = settings.model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{Path(tmp) / 'audit.db'}"}
        )
        report = asyncio.run(
            _audit(
                local,
                table,
                source=path.name,
                period=period,
                options=options,
                clock=clock,
                out=out,
                sites=sites,
            )
        )
    if report is None:
        return 1
    files = render(report, tz=settings.tz)
    out_path.write_bytes(files.workbook)
    if options.charts is not None:
        options.charts.mkdir(parents=True, exist_ok=True)
        for name, _title, png in files.charts:
            (options.charts / name).write_bytes(png)
    for line in summary_lines(report):
        print(line, file=out)
    print(f"报告已写入 {out_path}。", file=out)
    return 0


async def _audit(
    settings: Settings,
    table: list[list[object]],
    *,
    source: str,
    period: Period,
    options: AuditOptions,
    clock: Clock,
    out: IO[str],
    sites: list[list[object]] | None = None,
) -> Report | None:
    await db.upgrade(settings.database_url)
    engine = db.create_engine(settings.database_url)
    sessionmaker = db.make_sessionmaker(engine)
    live = LiveChecker(extra_file=settings.quality_extra_file)
    try:
        if not await _import(
            sessionmaker,
            table,
            source=source,
            period=period,
            settings=settings,
            clock=clock,
            out=out,
            sites=sites,
        ):
            return None
        async with sessionmaker() as session:
            await live.refresh(session, force=True)
            statuses = {a.id: a.status for a in await session.exec(select(Account))}
        config = PollerConfig.from_settings(settings)
        http = make_feed_session(
            config.policy, limit=settings.poll_concurrency, limit_per_host=settings.poll_per_host
        )
        parser = FeedParser(workers=0)
        try:
            tick = await poll_feeds(
                sessionmaker=sessionmaker,
                clock=clock,
                settings=settings,
                http=http,
                parser=parser,
                rng=random.Random(0),
                config=config,
                hooks=(QualityScan(live=live, alert_chat_id=None),),
            )
            if sites:  # the websites' pages, read once (availability needs a week: 无法评估)
                pages = await watch_columns(
                    sessionmaker=sessionmaker,
                    clock=clock,
                    settings=settings,
                    http=http,
                    rng=random.Random(0),
                    hooks=(QualityScan(live=live, alert_chat_id=None),),
                )
                print(f"已读取网站页面 {pages.read} 个，新条目 {pages.new_items} 条。", file=out)
        finally:
            await http.close()
            parser.close()
        failed = tick.polled - tick.outcomes.get("ok", 0) - tick.outcomes.get("not_modified", 0)
        print(
            f"已抓取 {tick.polled} 个订阅源，新内容 {tick.new_posts} 条，失败 {failed} 个。",
            file=out,
        )
        async with sessionmaker() as session:
            for account_id, status in statuses.items():  # the ledger's, not the audit's cases
                await session.exec(
                    sa.update(Account).where(col(Account.id) == account_id).values(status=status)
                )
            await feeds.ensure_states(
                session, now=clock.now(), account_ids=[a for a in statuses if a is not None]
            )
            await session.commit()
            opened = await _opened(session, table, settings)
            seed = options.seed
            if options.inspect and seed is None:
                seed = random.SystemRandom().randrange(1_000_000)
            return await reports.make_report(
                session,
                period=period,
                unit_id=None,
                scope=f"台账：{source}",
                now=clock.now(),
                tz=settings.tz,
                rules=settings.scoring_rules(),
                thresholds=settings.activity_thresholds(),
                inspection_seed=seed if options.inspect else None,
                inspection_ratio=options.ratio,
                registration_known=False,
                count_cases=False,
                opened=opened,
                website_rules=settings.website_rules(),
            )
    finally:
        await engine.dispose()


async def _import(
    sessionmaker: async_sessionmaker[AsyncSession],
    table: list[list[object]],
    *,
    source: str,
    period: Period,
    settings: Settings,
    clock: Clock,
    out: IO[str],
    sites: list[list[object]] | None = None,
) -> bool:
    """File the ledger's valid rows; print the others. False when nothing could be filed."""
    now = clock.now()
    async with sessionmaker() as session:
        user, _granted = await people.bootstrap_admin(
            session, telegram_id=AUDITOR_ID, now=now, name="audit"
        )
        result = await ledger.import_ledger(
            session,
            actor=await people.actor_for(session, user),
            table=table,
            now=now,
            invite_ttl=timedelta(days=1),
            valid_only=True,
            source=source,
        )
        validation = result.validation
        if validation.problems:
            print(
                f"台账共 {validation.total} 行，其中 {validation.bad_rows} 行有问题，未纳入：",
                file=out,
            )
            for problem in validation.problems:
                print(problem_line(problem), file=out)
        if not result.accounts:
            print("台账中没有可用的账号行。", file=out)
            return False
        if sites:
            rows, problems = parse_website_rows(sites)
            done = await import_websites(
                session, actor=await people.actor_for(session, user), rows=rows, now=now
            )
            print(f"已读入网站 {done.websites} 个、栏目 {done.columns} 个。", file=out)
            for problem in [*problems, *done.problems]:
                print(f"  网站第 {problem.row} 行：{problem.error}", file=out)
        opened = period.bounds(settings.tz)[0] - timedelta(days=365)
        await session.exec(sa.update(Account).values(created_at=opened, decided_at=opened))
        await session.commit()
    print(f"已读入账号 {len(result.accounts)} 个，开始抓取……", file=out)
    return True


async def _opened(
    session: AsyncSession, table: list[list[object]], settings: Settings
) -> dict[int, datetime]:
    """Accounts' opening dates from the ledger's optional 开设日期 column (local midnight)."""
    try:
        dates = opening_dates(table)
    except UserFacingError:
        return {}
    found: dict[int, datetime] = {}
    for account in await session.exec(select(Account)):
        day = dates.get((account.platform, account.platform_ref_norm))
        if day is not None and account.id is not None:
            found[account.id] = datetime.combine(day, time(), tzinfo=settings.tz).astimezone(UTC)
    return found
