"""Replicas benchmark: feed-poll throughput and alert delivery with 1, 2 and 3 bot processes.

    TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test_replicas \\
        .venv/bin/python bench/replicas.py --feeds 1000 --messages 300 --replicas 1 2 3

For each replica count: a fresh PostgreSQL database (``<TEST_DATABASE_URL>_bench``), the fake
Bot API and a local feed server in this process, and N real ``python -m bot run`` processes.
Then

- polls: ``--feeds`` accounts with feeds are registered at once (all due); the time until every
  feed has been polled gives polls per second for the cluster (each feed's answer takes
  ``--feed-delay`` seconds, as a slow upstream would);
- alerts: ``--messages`` notices to as many different people are queued in one transaction
  (as a job queues alerts); the time until the last is sent gives messages per second, and the
  busiest second seen by the fake Bot API shows whether the global ceiling (30/s) held for the
  replicas together. Rows sent twice are counted.

The one-replica run is the baseline. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bot import db
from governance.roles import Role
from models import outbox, people
from models.accounts import AccountDraft, register_account
from tests.e2e.cluster import Cluster, cluster_database_url, fresh_database
from tests.e2e.seed import seed_person, seed_unit
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import TOKEN, FakeTelegram

ADMIN = 1001


@dataclass
class Figures:
    replicas: int
    polls_per_s: float
    poll_seconds: float
    shared: dict[str, int]
    sends_per_s: float
    send_seconds: float
    busiest_second: int
    duplicates: int


async def _wait(predicate: object, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not await predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.1)


async def run_once(n: int, args: argparse.Namespace, base_url: str) -> Figures:
    url = cluster_database_url(base_url, "bench")
    await fresh_database(url)
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.feed_delay = args.feed_delay
        settings = {
            "BOT_TOKEN": TOKEN,
            "ADMIN_IDS": str(ADMIN),
            "DATABASE_URL": url,
            "TELEGRAM_API_BASE": tg.base,
            "DIGEST_TIME": "03:33",
            "POLLING_TIMEOUT": "1",
            "OUTBOX_INTERVAL": "0.2",
            "POLL_TICK_SECONDS": "1",
            "POLL_MAX_PER_TICK": str(args.batch),
            "POLL_PER_HOST": "50",
            "POLL_HOST_SPACING_MS": "0",
            "FEED_PARSE_WORKERS": "0",
            "ALLOW_PRIVATE_FEEDS": "true",
            "ALLOW_PRIVATE_LINKS": "true",
            "LOG_LEVEL": "INFO",
        }
        with tempfile.TemporaryDirectory() as workdir:
            cluster = Cluster.of(n, settings=settings, workdir=Path(workdir))
            engine = db.create_engine(url)
            sm = db.make_sessionmaker(engine)
            try:
                await cluster.start()
                now = datetime.now(UTC)
                unit = await seed_unit(sm, "某区融媒体中心", now)
                person = await seed_person(
                    sm, telegram_id=3950, name="褚主任", unit_id=unit, roles=(Role.EDITOR,), now=now
                )
                for i in range(args.feeds):
                    feeds.set_feed(
                        f"f{i}", [FakeItem(f"工作动态{i}", f"https://e.gov.cn/{i}", f"g{i}", now)]
                    )
                async with sm() as session:
                    admin = await people.get_user_by_telegram_id(session, ADMIN)
                    assert admin is not None
                    actor = await people.actor_for(session, admin)
                    for i in range(args.feeds):
                        await register_account(
                            session,
                            actor=actor,
                            draft=AccountDraft(
                                platform="weibo",
                                name=f"监测账号{i:05d}",
                                platform_ref=f"feed-{i}",
                                unit_id=unit,
                                responsible_id=person,
                                posts_per_week=2,
                                necessity="发布政务信息，回应群众关切。",
                                operating_plan="每周两条政务动态，办公室编辑，分管领导审核。",
                                feed_url=feeds.feed_url(f"f{i}"),
                                duplicate_reason="不同栏目分别运营（基准数据）",
                            ),
                            now=now,
                        )
                    await session.commit()
                began = time.monotonic()

                async def all_polled() -> bool:
                    async with engine.connect() as conn:
                        done = (
                            await conn.execute(
                                sa.text(
                                    "SELECT count(*) FROM feed_state WHERE last_poll_at IS NOT NULL"
                                )
                            )
                        ).scalar_one()
                    return bool(done >= args.feeds)

                await _wait(all_polled, 600)
                poll_seconds = time.monotonic() - began
                shared = {
                    r.name: sum(
                        int(line.split("claimed, ")[1].split(" polled")[0])
                        for line in r.lines
                        if "poll tick:" in line
                    )
                    for r in cluster.replicas
                }

                await _wait(_outbox_empty(engine), 120)  # assignment notices and the like
                mark = tg.mark()
                async with sm() as session:
                    for i in range(args.messages):
                        await outbox.enqueue(
                            session,
                            chat_id=500_000 + i,
                            kind="user.active_changed",
                            params={"who": f"基准{i}", "active": True},
                            now=datetime.now(UTC),
                        )
                    await session.commit()
                began = time.monotonic()
                await _wait(_outbox_empty(engine), 600)
                send_seconds = time.monotonic() - began
                sends = [c for c in tg.calls[mark:] if c.method == "sendMessage"]
                per_second = collections.Counter(int(c.at) for c in sends)
                texts = collections.Counter(c.text for c in sends)
            finally:
                await cluster.stop()
                await engine.dispose()
    return Figures(
        replicas=n,
        polls_per_s=args.feeds / poll_seconds,
        poll_seconds=poll_seconds,
        shared=shared,
        sends_per_s=len(sends) / send_seconds,
        send_seconds=send_seconds,
        busiest_second=max(per_second.values(), default=0),
        duplicates=sum(c - 1 for c in texts.values() if c > 1),
    )


def _outbox_empty(engine: sa.ext.asyncio.AsyncEngine) -> object:
    async def empty() -> bool:
        async with engine.connect() as conn:
            left = (
                await conn.execute(sa.text("SELECT count(*) FROM outbox WHERE status = 'pending'"))
            ).scalar_one()
        return bool(left == 0)

    return empty


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--feed-delay", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=100, help="POLL_MAX_PER_TICK per replica")
    args = parser.parse_args()
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        sys.exit("set TEST_DATABASE_URL to a PostgreSQL database (replicas need one)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(
        f"{'replicas':>8} | {'polls/s':>8} | {'poll s':>7} | {'claimed per replica':<24} | "
        f"{'sent/s':>6} | {'send s':>6} | {'busiest s':>9} | {'dupes':>5}"
    )
    for n in args.replicas:
        f = await run_once(n, args, base)
        share = "/".join(str(v) for v in f.shared.values())
        print(
            f"{f.replicas:>8} | {f.polls_per_s:>8.1f} | {f.poll_seconds:>7.1f} | {share:<24} | "
            f"{f.sends_per_s:>6.1f} | {f.send_seconds:>6.1f} | {f.busiest_second:>9} | "
            f"{f.duplicates:>5}",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    asyncio.run(main())
