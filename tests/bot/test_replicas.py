"""Several replicas on one database: one polling leader, one run per scheduled occurrence,
one send per outbox row, one handling per update, one process per SQLite file."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.app import BotApp
from bot.i18n import build_i18n
from bot.outbox import OutboxSender
from bot.replicas import DatabaseEventIsolation, PollingLeader, Role, SqliteGuard, advisory_key
from bot.scheduler import SINGLETONS, build_scheduler
from bot.settings import Settings
from governance.clock import ManualClock, SystemClock
from governance.errors import ConfigurationError
from handlers.notices import RENDERERS
from models import outbox, people, replicas
from models.replicas import HandledUpdate, JobRun
from tests.conftest import ADMIN_ID
from tests.fakes.telegram import FakeTelegram
from workflows.checker import LiveChecker


def _pg_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas share PostgreSQL")


async def _wait_until(
    predicate: Callable[[], bool], changed: asyncio.Event, timeout: float = 15.0
) -> None:
    """Re-check ``predicate`` each time a leader reports a try or a change of role."""

    async def watch() -> None:
        while True:
            changed.clear()
            if predicate():
                return
            await changed.wait()

    await asyncio.wait_for(watch(), timeout)


# --- the polling leader -------------------------------------------------------------------


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_one_replica_leads_polling_and_a_standby_takes_over_when_it_dies(
    database_url: str,
) -> None:
    _pg_only(database_url)
    engines = [db.create_engine(database_url) for _ in range(3)]
    polling: dict[str, asyncio.Event] = {}
    stopped: dict[str, asyncio.Event] = {}
    changed = asyncio.Event()

    def leader(name: str, engine: sa.ext.asyncio.AsyncEngine) -> PollingLeader:
        polling[name], stopped[name] = asyncio.Event(), asyncio.Event()

        async def poll() -> None:
            polling[name].set()
            await stopped[name].wait()

        async def stop_poll() -> None:
            stopped[name].set()
            changed.set()

        return PollingLeader(
            engine,
            key=advisory_key("polling:test"),
            name=name,
            retry=0.5,  # its lock check times out after 2 × retry: 0.2 s lost it on a busy CI
            poll=poll,
            stop_poll=stop_poll,
            on_change=changed.set,
        )

    def tried(leader: PollingLeader, times: int) -> Callable[[], bool]:
        mark = leader.attempts
        return lambda: leader.attempts >= mark + times

    leaders = [leader(f"r{i}", engine) for i, engine in enumerate(engines)]
    tasks = [asyncio.create_task(x.run()) for x in leaders]
    try:
        await _wait_until(lambda: sum(x.role is Role.LEADER for x in leaders) == 1, changed)
        first = next(x for x in leaders if x.role is Role.LEADER)
        # standbys keep trying meanwhile (three more tries each): still exactly one leader
        waits = [tried(x, 3) for x in leaders if x is not first]
        await _wait_until(lambda: all(w() for w in waits), changed)
        assert sum(x.role is Role.LEADER for x in leaders) == 1
        assert sum(e.is_set() for e in polling.values()) == 1

        # the leader's database session dies as it would with its process (SIGKILL)
        async with engines[0].connect() as conn:
            await conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
            )
        await _wait_until(lambda: stopped[first.name].is_set(), changed)  # it stops polling
        await _wait_until(
            lambda: any(x.role is Role.LEADER for x in leaders if x is not first),
            changed,
            timeout=10,
        )
        second = next(x for x in leaders if x is not first and x.role is Role.LEADER)
        assert polling[second.name].is_set()
        # the old leader, back as a standby, tries again (twice) while the other leads; on a
        # loaded machine the lock may move once more (a lock check timing out), never to two
        again = tried(first, 2)
        await _wait_until(lambda: again() or first.role is Role.LEADER, changed)
        assert sum(x.role is Role.LEADER for x in leaders) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for engine in engines:
            await engine.dispose()


class _BrokenEngine:
    """An engine whose connections fail in a way the leader does not expect."""

    async def connect(self) -> None:
        raise RuntimeError("driver bug")


async def test_a_standby_whose_try_fails_unexpectedly_keeps_trying() -> None:
    changed = asyncio.Event()

    async def never() -> None:
        raise AssertionError("a replica without the lock must not poll")

    async def stop() -> None:
        return None

    leader = PollingLeader(
        _BrokenEngine(),  # type: ignore[arg-type]
        key=advisory_key("polling:test"),
        name="r0",
        retry=0,
        poll=never,
        stop_poll=stop,
        on_change=changed.set,
    )
    task = asyncio.create_task(leader.run())
    try:
        await _wait_until(lambda: leader.attempts >= 3, changed)
        assert not task.done() and leader.role is Role.FOLLOWER
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# --- scheduled singletons ------------------------------------------------------------------


async def test_each_occurrence_is_claimed_by_one_replica_and_retried_after_its_lease(
    database_url: str,
) -> None:
    engines = [db.create_engine(database_url) for _ in range(3)]
    makers = [db.make_sessionmaker(e) for e in engines]
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    at = now.replace(minute=0)
    lease = timedelta(seconds=60)

    async def claim(maker: async_sessionmaker[AsyncSession], name: str, when: datetime) -> bool:
        async with maker() as session:
            won = await replicas.claim_run(
                session,
                job_id="daily_digest",
                scheduled_at=at,
                replica=name,
                now=when,
                lease=lease,
            )
            await session.commit()
            return won

    try:
        if database_url.startswith("postgresql"):
            wins = await asyncio.gather(*(claim(m, f"r{i}", now) for i, m in enumerate(makers)))
        else:
            wins = [await claim(m, f"r{i}", now) for i, m in enumerate(makers)]
        assert sorted(wins) == [False, False, True]
        winner = f"r{wins.index(True)}"
        # still leased: nobody else may take it
        assert not await claim(makers[0], "late", now + timedelta(seconds=30))
        # the winner went silent: after the lease another replica takes the occurrence over
        assert await claim(makers[1], "rescuer", now + timedelta(seconds=61))
        async with makers[2]() as session:
            assert not await replicas.renew_run(
                session,
                job_id="daily_digest",
                scheduled_at=at,
                replica=winner,
                until=now + timedelta(minutes=5),
            )
            await replicas.finish_run(
                session,
                job_id="daily_digest",
                scheduled_at=at,
                replica="rescuer",
                now=now + timedelta(seconds=70),
                outcome=replicas.RunOutcome.DONE,
            )
            await session.commit()
        # finished: never run again, however late
        assert not await claim(makers[0], "again", now + timedelta(days=1))
        async with makers[0]() as session:
            run = (await session.exec(select(JobRun))).one()
        assert (run.replica, run.attempts, run.outcome) == ("rescuer", 2, "done")
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_job_abandoned_mid_run_is_run_again_by_another_replica(
    database_url: str, tg: FakeTelegram, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.conftest import make_settings

    settings = make_settings(database_url, tg.base, job_lease_seconds=60)
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, 30, tzinfo=UTC))
    scheduled = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    async with sessionmaker() as session:  # a replica started the digest, then was killed
        await people.bootstrap_admin(session, telegram_id=ADMIN_ID, now=clock.now())
        assert await replicas.claim_run(
            session,
            job_id="daily_digest",
            scheduled_at=scheduled,
            replica="killed",
            now=clock.now(),
            lease=timedelta(seconds=60),
        )
        await session.commit()
    scheduler = build_scheduler(
        settings=settings,
        sessionmaker=sessionmaker,
        clock=clock,
        live_checker=LiveChecker(),
        replica="survivor",
    )
    scheduler.start(paused=True)
    try:
        executor = scheduler._lookup_executor("default")
        assert "daily_digest" in SINGLETONS
        assert await executor.retry_abandoned() == 0  # still within its lease
        clock.advance(timedelta(seconds=61))
        assert await executor.retry_abandoned() == 1
        async with sessionmaker() as session:
            run = (await session.exec(select(JobRun))).one()
            digests = [
                m
                for m in (await session.exec(select(outbox.OutboxMessage))).all()
                if m.kind == "digest"
            ]
        assert (run.replica, run.attempts, run.outcome) == ("survivor", 2, "done")
        assert [m.chat_id for m in digests] == [ADMIN_ID]
        assert await executor.retry_abandoned() == 0  # done is done
    finally:
        scheduler.shutdown(wait=False)


# --- the outbox ----------------------------------------------------------------------------


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_two_senders_send_every_row_once_and_pace_each_chat_together(
    database_url: str, tg: FakeTelegram, clock: ManualClock
) -> None:
    _pg_only(database_url)
    engines = [db.create_engine(database_url) for _ in range(2)]
    makers = [db.make_sessionmaker(e) for e in engines]
    from aiogram import Bot

    from tests.conftest import make_settings

    settings = make_settings(database_url, tg.base)
    async with makers[0]() as session:
        for i in range(120):
            await outbox.enqueue(
                session,
                chat_id=5000 + i % 40,
                kind="user.active_changed",
                params={"who": f"第{i}号", "active": True},
                now=clock.now(),
            )
        await session.commit()
    apps = [BotApp(settings, clock=clock, migrate=False) for _ in range(2)]
    bots: list[Bot] = [a._bot() for a in apps]
    senders = [
        OutboxSender(
            bot=b,
            sessionmaker=m,
            clock=SystemClock(),  # the pacing under test is in real seconds
            i18n=build_i18n(),
            renderers=RENDERERS,
            interval=0.05,
            shared=True,
        )
        for b, m in zip(bots, makers, strict=True)
    ]
    for sender in senders:
        sender.start()
    try:
        await tg.until(
            lambda: len([c for c in tg.calls if c.method == "sendMessage"]) >= 120, timeout=30
        )
        # the last send's row is marked sent after Telegram answered: a fresh pass of each
        # sender comes after its own commits
        await asyncio.wait_for(asyncio.gather(*(s.idle() for s in senders)), 30)
        async with makers[0]() as session:
            assert await outbox.backlog(session) == 0
    finally:
        for sender in senders:
            await sender.stop()
        for b in bots:
            await b.session.close()
        for engine in engines:
            await engine.dispose()
    sends = [c for c in tg.calls if c.method == "sendMessage"]
    texts = [c.text for c in sends]
    assert len(texts) == 120 and len(set(texts)) == 120  # every row once, none twice
    by_chat: dict[int, list[float]] = {}
    for call in sends:
        by_chat.setdefault(call.chat_id or 0, []).append(call.at)
    gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.9  # one message per second per chat, across both senders


# --- updates -------------------------------------------------------------------------------


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_an_update_handed_out_twice_is_handled_once(
    app: BotApp, tg: FakeTelegram, database_url: str
) -> None:
    # one SQLite process polling keeps no handled-update rows (no replica hands an update out
    # again; see bot.middlewares.UpdateOnceMiddleware and tests/bot/test_update_once.py)
    _pg_only(database_url)
    user = tg.user(ADMIN_ID, "王主任")
    replies = await user.send("/start")
    assert replies
    first = tg.delivered[-1]
    mark = tg.mark()
    assert app.dp is not None and app.bot is not None
    # Telegram hands it out again (a new leader starts without the old one's offset)
    await app.dp.feed_update(app.bot, Update.model_validate(first, context={"bot": app.bot}))
    await user.send("/help")
    assert len(tg.sent_to(ADMIN_ID, since=mark)) == 1  # the /help answer only
    assert app.sessionmaker is not None
    async with app.sessionmaker() as session:
        handled = (await session.exec(select(HandledUpdate.update_id))).all()
    assert sorted(handled) == sorted({u["update_id"] for u in tg.delivered})


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_updates_of_one_chat_take_turns_across_replicas(database_url: str) -> None:
    _pg_only(database_url)
    isolations = [DatabaseEventIsolation(database_url, pool_size=2) for _ in range(2)]
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    other = StorageKey(bot_id=1, chat_id=43, user_id=43)
    third = DatabaseEventIsolation(database_url, pool_size=2)  # another replica, its own pool
    inside: list[str] = []
    overlap = []
    first_in, other_done = asyncio.Event(), asyncio.Event()

    async def handle(
        isolation: DatabaseEventIsolation, k: StorageKey, name: str, hold: asyncio.Event | None
    ) -> None:
        async with isolation.lock(k):
            inside.append(name)
            if len([n for n in inside if n.startswith(str(k.chat_id))]) > 1:
                overlap.append(name)
            if hold is not None:  # the first holder keeps the lock until chat 43 went through
                first_in.set()
                await hold.wait()
            inside.remove(name)

    async def contenders() -> None:
        await first_in.wait()  # chat 42 is held: the others queue behind it on both replicas
        await asyncio.gather(
            *(handle(isolations[i % 2], key, f"42-{i}", None) for i in range(1, 6))
        )

    async def other_chat() -> None:
        await first_in.wait()  # another chat is not held up by chat 42's lock
        await handle(third, other, "43-a", None)
        other_done.set()

    try:
        await asyncio.gather(
            handle(isolations[0], key, "42-0", other_done), contenders(), other_chat()
        )
    finally:
        for isolation in (*isolations, third):
            await isolation.close()
    assert overlap == []


# --- SQLite --------------------------------------------------------------------------------


def test_a_second_process_on_one_sqlite_file_is_refused_with_a_clear_message(
    tmp_path: Path,
) -> None:
    first = SqliteGuard(tmp_path / "bot.db")
    first.acquire()
    try:
        with pytest.raises(ConfigurationError) as refused:
            SqliteGuard(tmp_path / "bot.db").acquire()
        assert "SQLite 只支持单个进程" in str(refused.value)
        assert "PostgreSQL" in str(refused.value)
    finally:
        first.release()
    SqliteGuard(tmp_path / "bot.db").acquire()  # free again once the first has stopped


async def test_a_second_bot_on_the_same_sqlite_database_does_not_start(
    app: BotApp, settings: Settings, clock: ManualClock
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the lock file guards SQLite")
    second = BotApp(settings, clock=clock, migrate=False)
    with pytest.raises(ConfigurationError, match="SQLite"):
        await second.start()
    await second.stop()
    assert app.role == Role.SINGLE
