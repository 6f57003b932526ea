"""The running bot: migrations, Bot, Dispatcher, scheduler and outbox sender in one event loop.

:class:`BotApp` is what ``python -m bot run`` starts and what the end-to-end tests start, against
a local Bot API server given by ``TELEGRAM_API_BASE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from functools import partial

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.dispatcher import build_dispatcher
from bot.fsm_storage import DatabaseStorage
from bot.i18n import build_i18n
from bot.outbox import OutboxSender
from bot.replicas import (
    DatabaseEventIsolation,
    PollingLeader,
    Role,
    SqliteGuard,
    advisory_key,
    replica_name,
    sqlite_path,
)
from bot.scheduler import build_scheduler
from bot.settings import Settings
from bot.transaction import CommitBeforeReply
from feeds.fetch import make_feed_session, probe_feed
from feeds.netguard import GuardPolicy
from feeds.parsing import FeedParser
from governance.clock import Clock, SystemClock
from handlers.menu import set_default_menus, set_person_menu
from handlers.notices import RENDERERS
from jobs.poll import USER_AGENT, NewPostsHook, check_account, guard_policy
from jobs.quality_scan import QualityScan
from jobs.review_hook import ReviewMatch
from models import people
from workflows.checker import LiveChecker


class BotApp:
    """Owns every long-lived resource and closes each of them on the way out."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, migrate: bool = True
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.migrate = migrate
        self.engine: AsyncEngine | None = None
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.bot: Bot | None = None
        self.dp: Dispatcher | None = None
        self.http: aiohttp.ClientSession | None = None
        self.storage: BaseStorage | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.sender: OutboxSender | None = None
        self.live_checker = LiveChecker(extra_file=settings.quality_extra_file)
        self.parser: FeedParser | None = None
        self.rng = random.Random()
        self.replica = replica_name(settings.replica_name)
        self.leader: PollingLeader | None = None
        self.isolation: BaseEventIsolation | None = None
        self._sqlite_guard: SqliteGuard | None = None
        self._polling: asyncio.Task[None] | None = None

    @property
    def on_postgresql(self) -> bool:
        return self.settings.database_url.startswith("postgresql")

    @property
    def role(self) -> Role:
        """What this replica does with updates (for logs, /monitor and metrics)."""
        if self.leader is not None:
            return self.leader.role
        return Role.SINGLE

    def new_post_hooks(self) -> tuple[NewPostsHook, ...]:
        """What happens to every new post the poller stores, in its transaction."""
        settings = self.settings
        return (
            QualityScan(
                live=self.live_checker,
                alert_chat_id=settings.alert_chat_id,
                cases=settings.case_policy(),
            ),
            ReviewMatch(
                window=settings.match_window(), alert_chat_id=settings.alert_chat_id, tz=settings.tz
            ),
        )

    def guard_policy(self) -> GuardPolicy:
        return guard_policy(self.settings)

    def _storage(self, sessionmaker: async_sessionmaker[AsyncSession]) -> BaseStorage:
        if self.settings.redis_url:
            from aiogram.fsm.storage.redis import RedisStorage

            return RedisStorage.from_url(self.settings.redis_url)
        return DatabaseStorage(sessionmaker=sessionmaker, clock=self.clock)

    def _bot(self) -> Bot:
        token = self.settings.require_token()
        session = None
        if self.settings.telegram_api_base:
            session = AiohttpSession(
                api=TelegramAPIServer.from_base(self.settings.telegram_api_base)
            )
        bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
        bot.session.middleware(CommitBeforeReply())  # nothing confirms what is not committed
        return bot

    def _isolation(self) -> BaseEventIsolation | None:
        """One update per chat at a time across replicas (one process on SQLite needs none)."""
        if self.settings.redis_url:
            from aiogram.fsm.storage.redis import RedisEventIsolation

            return RedisEventIsolation.from_url(self.settings.redis_url)
        if self.on_postgresql:
            return DatabaseEventIsolation(self.settings.database_url)
        return None

    async def start(self) -> None:
        """Bring everything up and start long polling in the background."""
        settings = self.settings
        database_file = sqlite_path(settings.database_url)
        if database_file is not None:
            self._sqlite_guard = SqliteGuard(database_file)
            self._sqlite_guard.acquire()
        if self.migrate:
            await db.upgrade(settings.database_url)
        self.engine = db.create_engine(settings.database_url)
        self.sessionmaker = db.make_sessionmaker(self.engine)
        self.storage = self._storage(self.sessionmaker)
        self.isolation = self._isolation()
        self.bot = self._bot()
        i18n = build_i18n()
        policy = self.guard_policy()
        self.http = make_feed_session(
            policy, limit=settings.poll_concurrency, limit_per_host=settings.poll_per_host
        )
        self.parser = FeedParser(workers=settings.feed_parse_workers)
        self.post_hooks = self.new_post_hooks()
        feed_check = partial(
            check_account,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            settings=settings,
            http=self.http,
            parser=self.parser,
            rng=self.rng,
            hooks=self.post_hooks,
        )
        feed_probe = partial(
            probe_feed,
            self.http,
            policy=policy,
            timeout=settings.feed_check_timeout,
            user_agent=USER_AGENT,
            max_bytes=settings.feed_max_bytes,
            clock=self.clock.now,
        )
        self.sender = OutboxSender(
            bot=self.bot,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            i18n=i18n,
            renderers=RENDERERS,
            interval=settings.outbox_interval,
            shared=self.on_postgresql,
        )
        async with self.sessionmaker() as session:
            await self.live_checker.refresh(session, force=True)
        self.dp = build_dispatcher(
            settings=settings,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            storage=self.storage,
            i18n=i18n,
            feed_probe=feed_probe,
            feed_check=feed_check,
            after_commit=self.sender.wake,
            live_checker=self.live_checker,
            events_isolation=self.isolation,
            replica=self.replica,
        )
        await self._bootstrap(i18n)
        self.scheduler = build_scheduler(
            settings=settings,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            live_checker=self.live_checker,
            http=self.http,
            parser=self.parser,
            rng=self.rng,
            hooks=self.post_hooks,
            replica=self.replica,
        )
        self.scheduler.start()
        self.sender.start()
        me = await self.bot.me()
        if self.on_postgresql:
            # several replicas may share this database: only the leader calls getUpdates
            self.leader = PollingLeader(
                self.engine,
                key=advisory_key(f"polling:{me.id}"),
                name=self.replica,
                retry=settings.leader_retry_seconds,
                poll=self._long_poll,
                stop_poll=self.dp.stop_polling,
            )
            self._polling = asyncio.create_task(self.leader.run(), name="polling-leader")
        else:
            self._polling = asyncio.create_task(self._long_poll(), name="polling")
        logger.info(
            "bot @{} started as replica {}; database {}",
            me.username,
            self.replica,
            _safe_db(settings.database_url),
        )

    async def _long_poll(self) -> None:
        assert self.dp is not None and self.bot is not None
        await self.dp.start_polling(
            self.bot,
            handle_signals=False,
            close_bot_session=False,
            polling_timeout=self.settings.polling_timeout,
        )

    async def _bootstrap(self, i18n: object) -> None:
        """ADMIN_IDS become admins in the database; menus are set for everyone with a role."""
        assert self.sessionmaker is not None and self.bot is not None
        async with self.sessionmaker() as session:
            for telegram_id in self.settings.admin_ids:
                await people.bootstrap_admin(session, telegram_id=telegram_id, now=self.clock.now())
            await session.commit()
        await set_default_menus(self.bot, i18n)  # type: ignore[arg-type]
        async with self.sessionmaker() as session:
            for unit_id in [None, *[u.id for u in await people.list_units(session)]]:
                for user, roles in await people.list_unit_users(
                    session, unit_id=unit_id, include_inactive=False
                ):
                    if roles:
                        await set_person_menu(
                            self.bot,
                            i18n,
                            chat_id=user.telegram_id,
                            roles=roles,
                            locale=user.locale,  # type: ignore[arg-type]
                        )

    async def wait(self) -> None:
        if self._polling is not None:
            await self._polling

    async def stop(self) -> None:
        """Stop polling, the scheduler and the sender; close sessions and the engine."""
        if self.dp is not None and self._polling is not None and not self._polling.done():
            with contextlib.suppress(RuntimeError):
                await self.dp.stop_polling()
            if self.leader is not None and self.leader.role is not Role.LEADER:
                self._polling.cancel()  # a standby: stop waiting for the lock
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._polling, timeout=10)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.sender is not None:
            await self.sender.stop()
        if self.dp is not None:
            await self.dp.storage.close()
        if self.http is not None:
            await self.http.close()
        if self.parser is not None:
            await asyncio.to_thread(self.parser.close)
        if self.bot is not None:
            await self.bot.session.close()
        if self.isolation is not None:
            await self.isolation.close()
        if self.engine is not None:
            await self.engine.dispose()
        if self._sqlite_guard is not None:
            self._sqlite_guard.release()
        logger.info("bot stopped")


def _safe_db(url: str) -> str:
    """The database URL without a password, for the log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url


async def run(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    app = BotApp(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await app.start()
        waiter = asyncio.create_task(stop.wait())
        polling = asyncio.create_task(app.wait())
        await asyncio.wait({waiter, polling}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    finally:
        await app.stop()
