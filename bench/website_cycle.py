"""Website column cycle benchmark: N columns of the local site farm through the real watcher.

    .venv/bin/python bench/website_cycle.py --sites 20 --columns 10

The site farm (tests/fakes/sites.py: nine CMS layouts, UTF-8/GBK/GB18030, empty columns,
portal home pages) runs in this process on 127.0.0.1; the column watcher (jobs/columns.py)
reads every page exactly as in the bot (claim, guarded fetch, per-host politeness, extraction
off the loop, store) against a fresh SQLite file. Two cycles: the first read (everything new)
and a re-read (every page answers 304 to its validators). The farm records when each request
started and how many were in flight, so the figures show the politeness held: at most
``POLL_PER_HOST`` requests in flight on the one host, starts at least ``POLL_HOST_SPACING_MS``
apart. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from tests.fakes.sites import SiteFarm


class TimedFarm(SiteFarm):
    """The farm, recording each request's start and the requests in flight."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.starts: list[float] = []
        self.in_flight = 0
        self.peak = 0

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.starts.append(time.monotonic())
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await super()._dispatch(request)
        finally:
            self.in_flight -= 1


async def run(args: argparse.Namespace) -> None:
    from bot import db
    from bot.settings import Settings
    from feeds.fetch import make_feed_session
    from feeds.netguard import GuardPolicy
    from governance.clock import SystemClock
    from governance.registry import AccountStatus
    from governance.websites import ColumnClass
    from jobs.columns import watch_columns
    from models.accounts import Account
    from models.people import Unit, User
    from models.websites import Website, WebsiteColumn, item_identity  # noqa: F401

    kinds = {"动态要闻": ColumnClass.NEWS, "通知公告": ColumnClass.NOTICE}
    kinds |= {"政策文件": ColumnClass.POLICY, "人事规划": ColumnClass.PERSONNEL}
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='webcycle-')}/bench.db"
    await db.upgrade(url)
    sm = db.make_sessionmaker(db.create_engine(url))
    clock = SystemClock()
    now = clock.now()
    async with TimedFarm() as farm:
        made = farm.generate(sites=args.sites, columns=args.columns, seed=args.seed)
        async with sm() as session:
            unit = Unit(name="基准单位", created_at=now)
            person = User(telegram_id=1, name="基准", created_at=now, updated_at=now)
            session.add_all([unit, person])
            await session.flush()
            for slug, site in farm.sites.items():
                account = Account(
                    platform="website",
                    name=site.name,
                    platform_ref=farm.home_url(slug),
                    platform_ref_norm=farm.home_url(slug),
                    unit_id=unit.id or 0,
                    responsible_id=person.id,
                    posts_per_week=1,
                    necessity="基准",
                    operating_plan="基准",
                    status=AccountStatus.ACTIVE,
                    created_by=person.id or 0,
                    created_at=now,
                    updated_at=now,
                )
                session.add(account)
                await session.flush()
                aid = account.id or 0
                session.add(Website(account_id=aid, home_url=farm.home_url(slug), created_at=now,
                                    next_probe_at=now))  # fmt: skip
                for column_slug, column in site.columns.items():
                    if (slug, column_slug) not in made:
                        continue
                    session.add(
                        WebsiteColumn(
                            account_id=aid,
                            name=column.name,
                            url=farm.column_url(slug, column_slug),
                            kind=kinds.get(column.column_class, ColumnClass.OTHER),
                            created_at=now,
                            next_poll_at=now,
                        )
                    )
            await session.commit()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            poll_per_host=args.per_host,
            poll_host_spacing_ms=args.spacing_ms,
            feed_allowed_hosts=["127.0.0.0/8"],
        )
        policy = GuardPolicy(allowed_hosts=frozenset({"127.0.0.0/8"}))
        async with make_feed_session(policy, limit=50, limit_per_host=args.per_host) as http:
            for name in ("first read", "re-read (304)"):
                farm.starts.clear()
                farm.peak = 0
                async with sm() as session:
                    await session.exec(  # type: ignore[call-overload]
                        __import__("sqlalchemy").update(WebsiteColumn).values(next_poll_at=now)
                    )
                    await session.commit()
                began = time.perf_counter()
                tick = await watch_columns(
                    sessionmaker=sm, clock=clock, settings=settings, http=http
                )
                took = time.perf_counter() - began
                gaps = [b - a for a, b in zip(farm.starts, farm.starts[1:], strict=False)]
                print(
                    f"{name}: {tick.read} columns in {took:.1f} s "
                    f"({tick.read / took:.2f}/s), new items {tick.new_items}, "
                    f"outcomes {tick.outcomes}, peak in flight {farm.peak} "
                    f"(limit {args.per_host}), min start gap "
                    f"{min(gaps, default=0) * 1000:.0f} ms (spacing {args.spacing_ms} ms)"
                )
        from sqlmodel import col, select

        from models.posts import Post

        async with sm() as session:
            rows = list(await session.exec(select(WebsiteColumn)))
            stored = list(
                await session.exec(select(Post).where(col(Post.identity).startswith("c")))
            )
        with_items = sum(1 for r in rows if r.items > 0)
        truth = sum(1 for s, c in made if farm.sites[s].columns[c].items)
        print(f"columns with items found: {with_items}/{truth} non-empty")
        # item dates: every item a list page shows, against what was stored for its column
        by_url = {r.url: r for r in rows}
        found = {(p.identity.split(":", 1)[0], p.link): p for p in stored}
        tz = settings.tz
        expected = correct = missing = 0
        for slug, column_slug in made:
            row = by_url[farm.column_url(slug, column_slug)]
            for item in farm.expected(slug, column_slug):
                expected += 1
                post = found.get((f"c{row.id}", item.link))
                if post is None:
                    missing += 1
                elif post.dated and post.published_at.astimezone(tz).date() == item.published:
                    correct += 1
        print(
            f"item dates: {correct}/{expected} correct ({correct / max(expected, 1):.4f}), "
            f"{missing} items not found"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--spacing-ms", type=int, default=500)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
