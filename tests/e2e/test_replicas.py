"""Three replicas as real processes on one PostgreSQL behind the fake Bot API, killed twice.

People join by invitation, register an account and take a draft through a three-stage review
while 500 feeds are polled, veto alerts go out and the daily digest falls due; a replica is
SIGKILLed twice (and restarted): in polling mode the leader (a follower takes over), in webhook
mode whichever the load balancer was sending to. Afterwards: every update was handled, and
once; every alert was delivered (at most one duplicate per kill); the digest went out once; no
feed was fetched by two replicas at once; never two getUpdates at a time.

Heavy (minutes on a shared machine): marked ``replicas`` and left out of the default run;
``pytest -m replicas tests/e2e/test_replicas.py`` runs it.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from governance.clock import SystemClock
from governance.roles import Role
from models import people
from models.accounts import Account, AccountDraft, register_account
from models.feeds import FeedState
from models.outbox import OutboxMessage
from models.replicas import HandledUpdate, JobRun
from tests.conftest import ADMIN_ID
from tests.e2e.cluster import Cluster, cluster_database_url, fresh_database
from tests.e2e.flows import AccountForm, fill_registration, invite_link, join
from tests.e2e.review_office import card, office, submit
from tests.e2e.seed import seed_person, seed_unit
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import TOKEN, FakeTelegram


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


pytestmark = [pytest.mark.replicas, pytest.mark.timeout(300)]

FEEDS = 500
VETO_EVERY = 50  # every 50th feed carries a hacked post: 10 veto alerts to each recipient
ALERT_CHAT = -100_777
TZ = "Asia/Shanghai"
HACKED = (
    "<p>我区本季度共接待来访群众120人次。</p>"
    '<div style="display:none"><a href="http://bet-365-vip.example.com">'
    "澳门葡京赌场官网，注册就送88元</a></div>"
)


def _digest_time(lead: timedelta) -> tuple[str, str]:
    """The first whole minute at least ``lead`` from now (local), and its date."""
    local = datetime.now(ZoneInfo(TZ)) + lead
    at = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return at.strftime("%H:%M"), at.date().isoformat()


def _settings(url: str, tg: FakeTelegram, digest_time: str) -> dict[str, str]:
    return {
        "BOT_TOKEN": TOKEN,
        "ADMIN_IDS": str(ADMIN_ID),
        "DATABASE_URL": url,
        "TELEGRAM_API_BASE": tg.base,
        "ALERT_CHAT_ID": str(ALERT_CHAT),
        "TIMEZONE": TZ,
        "DIGEST_TIME": digest_time,
        "POLLING_TIMEOUT": "1",
        "OUTBOX_INTERVAL": "0.1",
        "LEADER_RETRY_SECONDS": "0.5",
        "JOB_LEASE_SECONDS": "10",
        "POLL_TICK_SECONDS": "1",
        "POLL_MAX_PER_TICK": "60",
        "POLL_LEASE_SECONDS": "30",
        "POLL_PER_HOST": "20",
        "POLL_HOST_SPACING_MS": "0",
        "FEED_PARSE_WORKERS": "0",
        "ALLOW_PRIVATE_FEEDS": "true",
        "ALLOW_PRIVATE_LINKS": "true",
        "LOG_LEVEL": "INFO",
    }


async def _seed_feeds(
    sm: async_sessionmaker[AsyncSession], feeds: FeedServer, *, unit: int, responsible: int
) -> None:
    """500 accounts with feeds, registered as an admin would (one transaction)."""
    now = datetime.now(UTC)
    async with sm() as session:
        admin = await people.get_user_by_telegram_id(session, ADMIN_ID)
        assert admin is not None
        actor = await people.actor_for(session, admin)
        for i in range(FEEDS):
            items = [FakeItem(f"工作动态{i}", f"https://example.gov.cn/{i}/1", f"g{i}-1", now)]
            if i % VETO_EVERY == 0:
                hacked = FakeItem(
                    f"信访工作{i}", f"https://example.gov.cn/{i}/2", f"g{i}-2", now, HACKED
                )
                items.insert(0, hacked)
            feeds.set_feed(f"f{i}", items)
            await register_account(
                session,
                actor=actor,
                draft=AccountDraft(
                    platform="weibo",
                    name=f"监测账号{i:03d}",
                    platform_ref=f"feed-{i}",
                    unit_id=unit,
                    responsible_id=responsible,
                    posts_per_week=2,
                    necessity="发布政务信息，回应群众关切。",
                    operating_plan="每周两条政务动态，办公室编辑，分管领导审核。",
                    feed_url=feeds.feed_url(f"f{i}"),
                    duplicate_reason="不同栏目分别运营（测试数据）",
                ),
                now=now,
            )
        await session.commit()


async def _kill_one(cluster: Cluster, mode: str, turn: int) -> float:
    """SIGKILL a replica (in polling mode the leader) and restart it; polling mode: how long
    until a follower led (webhook mode: 0, the load balancer just skips the dead one)."""
    if mode == "webhook":
        victim = cluster.replicas[turn % len(cluster.replicas)]
        await victim.kill()
        await victim.start()
        return 0.0
    leader = await cluster.leader()
    await leader.kill()
    killed = asyncio.get_running_loop().time()
    new = await cluster.leader(timeout=20)
    took = asyncio.get_running_loop().time() - killed
    assert new is not leader
    await leader.start()  # back as a standby when it is up; the test goes on meanwhile
    return took


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_three_replicas_share_the_work_and_survive_two_kills(
    mode: str, tmp_path: Path, pg_migrated: str
) -> None:
    url = cluster_database_url(pg_migrated, "cluster")
    await fresh_database(url)
    # far enough ahead for three cold processes to come up on a busy machine; the daily digest
    # falls due while people are still at work (or the test waits for it at the end)
    digest_time, digest_day = _digest_time(timedelta(seconds=150))
    async with FakeTelegram() as tg, FeedServer() as feeds:
        feeds.feed_delay = 0.05
        tg.quiet = 0.6  # four processes share this machine's cores: replies come in slower
        settings = _settings(url, tg, digest_time)
        ports = [free_port() for _ in range(3)]
        cluster = Cluster.of(3, settings=settings, workdir=tmp_path)
        if mode == "webhook":  # three replicas behind one public URL (a load balancer)
            for replica, port in zip(cluster.replicas, ports, strict=True):
                replica.env.update(
                    BOT_MODE="webhook",
                    WEBHOOK_URL="https://bot.example.gov.cn/tg/hook",
                    WEBHOOK_SECRET="replica-test-secret-0123456789",
                    WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                    WEBHOOK_DELETE_ON_STOP="false",  # one replica stopping must not end it
                )
            tg.webhook_targets = [f"http://127.0.0.1:{p}/tg/hook" for p in ports]
        engine = db.create_engine(url)
        sm = db.make_sessionmaker(engine)
        kills = 0
        try:
            began = asyncio.get_running_loop().time()

            def phase(name: str) -> None:
                print(f"{asyncio.get_running_loop().time() - began:6.1f}s {name}")

            await cluster.start()  # three processes migrating one fresh database together
            phase("cluster up")
            local = datetime.now(ZoneInfo(TZ)).strftime("%H:%M")
            assert local < digest_time or digest_time < "00:10", "replicas too slow to start"
            if mode == "polling":
                await cluster.leader()
            o = await office(SimpleNamespace(sessionmaker=sm), tg, SystemClock())
            now = datetime.now(UTC)
            media = await seed_unit(sm, "某区融媒体中心", now)  # no review route: no 未经审核
            watcher = await seed_person(
                sm, telegram_id=3950, name="褚主任", unit_id=media, roles=(Role.EDITOR,), now=now
            )
            await _seed_feeds(sm, feeds, unit=media, responsible=watcher)

            phase("seeded")
            admin = tg.user(ADMIN_ID, "王主任")
            await admin.send("/start")
            link = await invite_link(admin, "某区教育局", "编辑")
            newcomer = tg.user(3900, "冯编辑")
            joined = await join(newcomer, link)
            assert "你已加入“某区教育局”" in joined[-1].text

            phase("joined")
            takeover = [await _kill_one(cluster, mode, 1)]
            kills += 1
            phase("first kill")

            form = AccountForm(
                platform="抖音", unit="某区教育局", responsible="钱编辑", ref="reg-after-kill"
            )
            summary = await fill_registration(admin, form)
            replies = await admin.press(summary, "确认提交")
            assert "状态：在用" in replies[-1].text

            phase("registered")
            since = tg.mark()
            number = await submit(o.editor, parts=["关于开展校园开放日活动的通知正文。"])
            for n, approver in enumerate(o.approvers):
                the_card = await card(approver, since=since, number=number)
                replies = await approver.press(the_card, "通过")
                assert any("你已通过" in c.text for c in replies)
                if n == 0:
                    takeover.append(await _kill_one(cluster, mode, 2))
                    kills += 1
            approved = await o.editor.inbox(since=since, count=1, timeout=20)
            assert approved
            phase("reviewed")

            # every feed polled and stored, every veto alert queued and sent, the digest out:
            # rechecked whenever Telegram is called or a replica logs a line (a poll tick, a job
            # run, and a sender's pass that marked rows sent all log one after their commits)
            async def settled() -> None:
                while True:
                    for replica in cluster.replicas:
                        replica._changed.clear()
                    calls = len(tg.calls)
                    async with sm() as session:
                        stored = await session.scalar(
                            select(func.count())
                            .select_from(FeedState)
                            .join(Account, col(Account.id) == col(FeedState.account_id))
                            .where(
                                col(Account.platform_ref).startswith("feed-"),
                                col(FeedState.last_success_at).is_not(None),
                            )
                        )
                        rows = (await session.exec(select(OutboxMessage))).all()
                    pending = [r for r in rows if r.status == "pending"]
                    vetoed = {r.params["account_id"] for r in rows if r.kind == "finding.veto"}
                    digest = [c for c in tg.sent_to(ALERT_CHAT) if "每日通报" in c.text]
                    state.update(stored=stored, vetoed=len(vetoed), pending=len(pending))
                    state.update(digest=len(digest))
                    if (
                        stored == FEEDS
                        and len(vetoed) == FEEDS // VETO_EVERY
                        and not pending
                        and digest
                    ):
                        return
                    called = asyncio.ensure_future(
                        tg.until(lambda seen=calls: len(tg.calls) > seen, timeout=120)
                    )
                    logged = asyncio.ensure_future(cluster.any_line())
                    _done, waiting = await asyncio.wait(
                        {called, logged}, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in waiting:
                        task.cancel()

            state: dict[str, int | None] = {}
            try:
                await asyncio.wait_for(settled(), 120)
            except TimeoutError:
                raise AssertionError(f"not settled in 120 s: {state}") from None
            phase("settled")
            for replica in cluster.replicas:  # the restarted ones are up again
                await replica.wait_started()
            # no quiet period: the clean stop below is the boundary; whatever a replica sent
            # before it exited (a duplicate included) is counted by the checks after it
        finally:
            codes = await cluster.stop()
            await engine.dispose()

        assert codes == [0, 0, 0], [r.lines[-20:] for r in cluster.replicas]
        assert kills == 2
        assert max(takeover) < 10, takeover  # a follower leads within seconds

        # exactly one replica called getUpdates at a time (none in webhook mode)
        assert tg.conflicts == 0
        if mode == "webhook":
            assert not tg.delivered
            delivered = {uid for uid, status in tg.pushes if status == 200}
        else:
            delivered = {u["update_id"] for u in tg.delivered}

        # every update handled, and once
        engine = db.create_engine(url)
        async with db.make_sessionmaker(engine)() as session:
            handled = (await session.exec(select(HandledUpdate.update_id))).all()
            rows = (await session.exec(select(OutboxMessage))).all()
            runs = (
                await session.exec(select(JobRun).where(col(JobRun.job_id) == "daily_digest"))
            ).all()
        await engine.dispose()
        assert delivered <= set(handled) and len(handled) == len(set(handled))

        # every alert delivered; duplicates at most one per kill
        veto_rows = [r for r in rows if r.kind == "finding.veto"]
        assert len({r.params["account_id"] for r in veto_rows}) == FEEDS // VETO_EVERY
        assert all(r.status == "sent" for r in rows), {r.status for r in rows}
        veto_sends = [c for c in tg.calls if c.method == "sendMessage" and "单项否决问题" in c.text]
        assert len(veto_rows) <= len(veto_sends) <= len(veto_rows) + kills

        # the daily digest: one occurrence, run once, one message
        digests = [c for c in tg.sent_to(ALERT_CHAT) if "每日通报" in c.text]
        assert len(digests) == 1 and digest_day in digests[0].text
        assert len(runs) == 1 and runs[0].outcome == "done"

        # every feed fetched, never by two replicas at once
        assert feeds.overlaps == []
        fetched = [r.path for r in feeds.requests if r.path.startswith("/feeds/f")]
        assert len(set(fetched)) == FEEDS
        workers = {r.name for r in cluster.replicas if any("poll tick:" in x for x in r.lines)}
        assert len(workers) >= 2  # the polling was shared
