"""The running bot: migrations, Bot, Dispatcher, scheduler and outbox sender in one event loop.

:class:`BotApp` is what ``python -m bot run`` starts and what the end-to-end tests start, against
a local Bot API server given by ``TELEGRAM_API_BASE``. Start-up has two halves:

- :meth:`BotApp.open` checks and opens everything (database reachable and at the right
  migration, Bot API reachable and the token accepted, dispatcher, scheduler, outbox sender);
  a check that fails raises :class:`~bot.telegram.StartupError` with one Chinese line;
- :meth:`BotApp.start_updates` starts receiving updates: long polling
  (:meth:`start_polling`, which a leader gate may wrap) or the webhook, plus the HTTP endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from functools import partial
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import setup_application
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db, runtime
from bot.activity import UpdateActivity
from bot.dispatcher import build_dispatcher
from bot.fsm_storage import DatabaseStorage
from bot.i18n import build_i18n
from bot.metrics import ProcessMetrics, RequestOutcomes
from bot.outbox import OutboxSender
from bot.pacing import Pacer, RateLimits, ReplyPacing
from bot.replicas import (
    DatabaseEventIsolation,
    PollingLeader,
    Role,
    SqliteGuard,
    advisory_key,
    replica_name,
    sqlite_path,
)
from bot.robots import RobotClient, RobotDelivery, make_robot_session
from bot.scheduler import build_scheduler
from bot.settings import ReplicaDuties, Settings
from bot.shutdown import settle
from bot.singletons import JobScheduler
from bot.telegram import (
    UNREACHABLE,
    ApiReachability,
    StartupError,
    make_bot,
    probe_until_reachable,
)
from bot.transaction import CommitBeforeReply
from bot.web import WebServer, build_web_app
from bot.webhook import RecordingRequestHandler
from feeds.fetch import make_feed_session, probe_feed
from feeds.netguard import GuardPolicy, feed_url_refusal
from feeds.parsing import FeedParser
from governance.clock import Clock, SystemClock
from handlers.menu import set_default_menus, set_person_menu
from handlers.notices import RENDERERS
from jobs.poll import check_account
from jobs.polltypes import USER_AGENT, NewPostsHook, guard_policy
from jobs.quality_scan import QualityScan
from jobs.reposts import RepostMatch
from jobs.review_hook import ReviewMatch
from models import people
from workflows.checker import LiveChecker


class BotApp:
    """Owns every long-lived resource and closes each of them on the way out."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, migrate: bool | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.migrate = settings.migrate_on_start if migrate is None else migrate
        self.reachability = ApiReachability()
        self.metrics = ProcessMetrics(role=lambda: self.role)
        self.web: WebServer | None = None
        self.webhook: RecordingRequestHandler | None = None
        self._stopping = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self.engine: AsyncEngine | None = None
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.jobs_sessionmaker: async_sessionmaker[AsyncSession] | None = None
        """The scheduled jobs' sessions: commits that need not wait for the disk (bot.db)."""
        self.bot: Bot | None = None
        self.dp: Dispatcher | None = None
        self.http: aiohttp.ClientSession | None = None
        self.robot_http: aiohttp.ClientSession | None = None
        self.storage: BaseStorage | None = None
        self.scheduler: JobScheduler | None = None
        self.sender: OutboxSender | None = None
        self.live_checker = LiveChecker(
            extra_file=settings.quality_extra_file, after_rebuild=runtime.freeze_survivors
        )
        self.parser: FeedParser | None = None
        self.rng = random.Random()
        #: One pacer for the outbox and the direct replies: Telegram's limits are per bot.
        self.pacer = Pacer(
            RateLimits(
                global_per_second=settings.outbox_per_second,
                private_interval=settings.outbox_private_interval,
                group_per_minute=settings.outbox_group_per_minute,
            )
        )
        self.replica = replica_name(settings.replica_name)
        self.leader: PollingLeader | None = None
        self.isolation: BaseEventIsolation | None = None
        self._sqlite_guard: SqliteGuard | None = None
        self._polling: asyncio.Task[None] | None = None
        self.activity = UpdateActivity()
        self.collections = runtime.QuietCollections(self.activity)

    @property
    def on_postgresql(self) -> bool:
        return self.settings.database_url.startswith("postgresql")

    @property
    def update_source(self) -> str | None:
        """How this replica receives Telegram updates: ``polling``, ``webhook``, or ``None``
        (``REPLICA_DUTIES=jobs``: no getUpdates, no webhook, nor deleting the chat replicas')."""
        if self.settings.replica_duties is ReplicaDuties.JOBS:
            return None
        return self.settings.bot_mode

    @property
    def role(self) -> str:
        """single (SQLite), leader or follower (polling on PostgreSQL), webhook, or jobs (a
        replica that takes no updates) (/metrics)."""
        if self.update_source is None:
            return Role.JOBS.value
        if self.update_source == "webhook":
            return Role.WEBHOOK.value
        if self.leader is not None:
            return self.leader.role.value
        return Role.SINGLE.value

    def _isolation(self) -> BaseEventIsolation | None:
        """One update per chat at a time across replicas (one process on SQLite needs none)."""
        if self.settings.redis_url:
            from aiogram.fsm.storage.redis import RedisEventIsolation

            return RedisEventIsolation.from_url(self.settings.redis_url)
        if self.on_postgresql:
            return DatabaseEventIsolation(self.settings.database_url)
        return None

    def new_post_hooks(self) -> tuple[NewPostsHook, ...]:
        """What happens to every new post the poller stores, once it is committed."""
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
            RepostMatch(),
        )

    def guard_policy(self) -> GuardPolicy:
        return guard_policy(self.settings)

    def _storage(self, sessionmaker: async_sessionmaker[AsyncSession]) -> BaseStorage:
        if self.settings.redis_url:
            from aiogram.fsm.storage.redis import RedisStorage

            return RedisStorage.from_url(self.settings.redis_url)
        return DatabaseStorage(sessionmaker=sessionmaker, clock=self.clock)

    def _bot(self) -> Bot:
        bot = make_bot(self.settings)
        bot.session.middleware(CommitBeforeReply())  # nothing confirms what is not committed
        # direct replies share the outbox's pacer and get their 429s retried
        bot.session.middleware(ReplyPacing(self.pacer, monotonic=self.clock.monotonic))
        bot.session.middleware(RequestOutcomes(self.metrics, self.reachability.ok))
        return bot

    async def start(self) -> bool:
        """Open everything, then receive updates; False if stopped while waiting for the API."""
        if not await self.open():
            return False
        await self.start_updates()
        return True

    async def _prepare_database(self) -> None:
        """The database must answer and be at the code's migration (migrating it if allowed)."""
        url = self.settings.database_url
        probe = db.create_engine(url)
        try:
            current = await asyncio.wait_for(db.current_revision(probe), 15)
        except Exception as exc:
            logger.opt(exception=exc).debug("database probe failed")
            raise StartupError(
                f"无法连接数据库（{_safe_db(url)}）：{type(exc).__name__}。"
                "请检查 DATABASE_URL、数据库服务是否在运行、网络与账号密码。",
                exit_code=3,
            ) from None
        finally:
            await probe.dispose()
        head = db.head_revision()
        if current == head:
            return
        if current is not None and current not in db.known_revisions():
            raise StartupError(
                f"数据库版本 {current} 比本程序新（本程序为 {head}）："
                "请升级程序，或换用匹配的数据库。",
                exit_code=4,
            )
        if not self.migrate:
            raise StartupError(
                f"数据库结构不是最新版本（当前 {current or '空库'}，需要 {head}）："
                "请先运行 python -m bot migrate，或设置 MIGRATE_ON_START=true。",
                exit_code=4,
            )
        await db.upgrade(url)

    async def _wait_stopping(self, delay: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        return self._stopping.is_set()

    def request_stop(self) -> None:
        """Ask a running (or starting) app to stop; :meth:`wait` returns."""
        self._stopping.set()

    async def open(self) -> bool:
        """Check and open everything except the update source; False if stopped meanwhile."""
        settings = self.settings
        database_file = sqlite_path(settings.database_url)
        if database_file is not None and self._sqlite_guard is None:
            self._sqlite_guard = SqliteGuard(database_file)
            self._sqlite_guard.acquire()
        await self._prepare_database()
        self.engine = db.create_engine(settings.database_url)
        self.sessionmaker = db.make_sessionmaker(self.engine)
        self.jobs_sessionmaker = db.make_sessionmaker(self.engine, durable=False)
        self.storage = self._storage(self.sessionmaker)
        self.isolation = self._isolation()
        self.bot = self._bot()
        me = await probe_until_reachable(self.bot, settings, stopping=self._wait_stopping)
        if me is None:
            return False
        i18n = build_i18n()
        policy = self.guard_policy()
        self.http = make_feed_session(
            policy, limit=settings.poll_concurrency, limit_per_host=settings.poll_per_host
        )
        self.parser = FeedParser(
            workers=settings.feed_parse_workers,
            timeout=settings.feed_parse_timeout,
            fast=settings.feed_fast_parse,
            nice=settings.jobs_nice,
        )
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
        robot_policy = GuardPolicy(
            allow_private=settings.allow_private_robots,
            allowed_hosts=settings.closed_network,
            only_allowed=settings.feed_allowed_only,
        )
        self.robot_http = make_robot_session(robot_policy)
        robots = RobotDelivery(
            client=RobotClient(
                self.robot_http, policy=robot_policy, timeout=settings.robot_timeout
            ),
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            i18n=i18n,
            renderers=RENDERERS,
        )
        self.sender = OutboxSender(
            bot=self.bot,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            i18n=i18n,
            renderers=RENDERERS,
            interval=settings.outbox_interval,
            pacer=self.pacer,
            robots=robots,
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
            feed_guard=partial(feed_url_refusal, policy=policy),
            after_commit=self.sender.wake,
            live_checker=self.live_checker,
            activity=self.activity,
            events_isolation=self.isolation,
            replica=self.replica,
        )
        await self._bootstrap(i18n)
        self.scheduler = build_scheduler(
            settings=settings,
            sessionmaker=self.jobs_sessionmaker,
            clock=self.clock,
            live_checker=self.live_checker,
            http=self.http,
            parser=self.parser,
            rng=self.rng,
            hooks=self.post_hooks,
            replica=self.replica,
            duties=settings.replica_duties,
            replies=self.activity,
        )
        self.scheduler.start()
        self.sender.start()
        frozen = runtime.freeze_survivors()
        self.collections.take_over()
        self._background.append(
            asyncio.create_task(self.collections.run(self._wait_stopping), name="collections")
        )
        logger.info(
            "bot @{} ready; started as replica {} ({}); database {}; {:,} objects frozen; "
            "event loop {}",
            me.username,
            self.replica,
            settings.replica_duties.value,
            _safe_db(settings.database_url),
            frozen,
            runtime.loop_name(),
        )
        return True

    async def start_updates(self) -> None:
        """Receive updates (polling or webhook) and serve the HTTP endpoints."""
        settings, source = self.settings, self.update_source
        if source == "webhook" or settings.metrics_port is not None:
            self.web = self.build_web()
        if source == "webhook":
            await self.start_webhook()
        else:
            if self.web is not None:
                await self.web.start()
            if source == "polling":
                await self._leave_webhook_mode()
                self.start_polling()
        self._background.append(asyncio.create_task(self._keep_api_checked(), name="api-check"))
        logger.info("receiving updates by {}", source or "nothing (REPLICA_DUTIES=jobs)")

    def build_web(self) -> WebServer:
        """The HTTP endpoints' app; add routes to ``.app.router`` before it starts."""
        settings = self.settings
        app = build_web_app(
            readiness=self.readiness,
            metrics=self.metrics,
            refresh_metrics=self.refresh_metrics,
            max_body_bytes=settings.webhook_max_body_bytes,
        )
        if self.update_source == "webhook":
            host, port = settings.webhook_host_port
        else:
            host, port = settings.metrics_host, settings.metrics_port or 0
        return WebServer(app, host, port)

    async def _leave_webhook_mode(self) -> None:
        """A webhook left from an earlier webhook-mode run would make getUpdates fail (409)."""
        assert self.bot is not None
        info = await self.bot.get_webhook_info(request_timeout=15)
        if info.url:
            logger.warning("a webhook was still set; deleting it to receive updates by polling")
            await self.bot.delete_webhook(request_timeout=15)

    def start_polling(self) -> None:
        """Long polling in the background (one replica only: getUpdates is exclusive).

        On PostgreSQL several replicas may share the database: only the one holding the
        polling lock calls getUpdates (:class:`bot.replicas.PollingLeader`).
        """
        assert self.dp is not None and self.bot is not None and self.engine is not None
        if self.on_postgresql:
            self.leader = PollingLeader(
                self.engine,
                key=advisory_key(f"polling:{self.bot.id}"),
                name=self.replica,
                retry=self.settings.leader_retry_seconds,
                poll=self._long_poll,
                stop_poll=self.dp.stop_polling,
            )
            self._polling = asyncio.create_task(self.leader.run(), name="polling-leader")
        else:
            self._polling = asyncio.create_task(self._long_poll(), name="polling")

    async def _long_poll(self) -> None:
        assert self.dp is not None and self.bot is not None
        await self.dp.start_polling(
            self.bot,
            handle_signals=False,
            close_bot_session=False,
            polling_timeout=self.settings.polling_timeout,
        )

    async def stop_polling(self) -> None:
        if self.dp is not None and self._polling is not None and not self._polling.done():
            with contextlib.suppress(RuntimeError):
                await self.dp.stop_polling()
            if self.leader is not None and self.leader.role is not Role.LEADER:
                self._polling.cancel()  # a follower: stop waiting for the lock
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._polling, timeout=10)

    async def start_webhook(self) -> None:
        """Serve the webhook, then tell Telegram where it is (setWebhook)."""
        assert self.dp is not None and self.bot is not None and self.web is not None
        assert self.sessionmaker is not None
        settings = self.settings
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        secret = settings.webhook_secret.get_secret_value()
        self.webhook = RecordingRequestHandler(
            self.dp,
            self.bot,
            secret_token=secret,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            metrics=self.metrics,
        )
        self.webhook.register(self.web.app, path=settings.webhook_path)
        setup_application(self.web.app, self.dp, bot=self.bot)
        await self.web.start()
        await self.webhook.sweep()  # updates recorded but not processed before a restart
        self._background.append(
            asyncio.create_task(self.webhook.sweep_forever(), name="webhook-sweeper")
        )
        await self.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            drop_pending_updates=settings.webhook_drop_pending,
            allowed_updates=self.dp.resolve_used_update_types(),
        )

    async def readiness(self) -> dict[str, bool]:
        """/readyz: the database answers at the code's migration; the Bot API answered lately."""
        database = migrated = False
        if self.engine is not None:
            try:
                current = await asyncio.wait_for(db.current_revision(self.engine), 5)
                database, migrated = True, current == db.head_revision()
            except Exception as exc:
                logger.debug("readiness: database check failed: {}", type(exc).__name__)
        return {
            "database": database,
            "migrations": migrated,
            "telegram": self.reachability.within(60),
        }

    async def refresh_metrics(self) -> None:
        self.metrics.refresh_role()
        self.metrics.api_reachable.set(1 if self.reachability.within(60) else 0)
        if self.sessionmaker is not None:
            await self.metrics.refresh_database(self.sessionmaker, self.clock)

    async def _keep_api_checked(self, every: float = 20.0) -> None:
        """Ask the Bot API (getMe) when nothing else did lately, so /readyz stays truthful."""
        assert self.bot is not None
        while not await self._wait_stopping(every):
            if self.reachability.within(every):
                continue
            try:
                await self.bot.get_me(request_timeout=10)
            except (*UNREACHABLE, TelegramAPIError) as exc:
                logger.warning("Bot API did not answer: {}", type(exc).__name__)

    async def _bootstrap(self, i18n: I18n) -> None:
        """ADMIN_IDS become admins in the database; menus are set for everyone with a role."""
        assert self.sessionmaker is not None and self.bot is not None
        async with self.sessionmaker() as session:
            for telegram_id in self.settings.admin_ids:
                await people.bootstrap_admin(session, telegram_id=telegram_id, now=self.clock.now())
            await session.commit()
        await set_default_menus(self.bot, i18n)
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
                            locale=user.locale,
                        )

    async def idle(self) -> None:
        """Return once the bot has nothing left to do at the clock's current time.

        Every update handed to the dispatcher is handled and committed, and the outbox sender
        made a pass that found nothing it may send now. Updates Telegram has not delivered yet
        are the caller's to account for (the tests' fake Bot API knows them).
        """
        while True:
            if self.webhook is not None:  # pushed updates answered but still being processed
                await self.webhook.drain()
            await self.activity.quiet()
            if self.sender is not None:
                await self.sender.idle()
            if self.activity.in_flight == 0:
                return

    async def wait(self) -> None:
        """Until a stop is requested or polling ends by itself."""
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._stopping.wait())}
        if self._polling is not None:
            waiters.add(self._polling)
        _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for future in pending:
            if future is not self._polling:
                future.cancel()

    def _updates_in_flight(self) -> set[asyncio.Task[Any]]:
        """Updates still being handled, taken in by long polling or the webhook."""
        tasks: set[asyncio.Task[Any]] = set()
        if self.dp is not None:  # aiogram keeps no public handle on its per-update tasks
            tasks |= getattr(self.dp, "_handle_update_tasks", set())
        if self.webhook is not None:
            tasks |= self.webhook.in_flight()
        return tasks

    async def stop(self) -> None:
        """Stop receiving updates, the scheduler and the sender; close sessions and the engine."""
        self._stopping.set()
        await self.stop_polling()
        if (
            self.webhook is not None
            and self.bot is not None
            and self.settings.webhook_delete_on_stop
        ):
            with contextlib.suppress(*UNREACHABLE, TelegramAPIError):
                await self.bot.delete_webhook(request_timeout=10)
        if self.web is not None:
            await self.web.stop()
        await settle(self._updates_in_flight(), grace=10, what="updates")
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.sender is not None:
            await self.sender.stop()
        if self.dp is not None:
            await self.dp.storage.close()
        if self.http is not None:
            await self.http.close()
        if self.robot_http is not None:
            await self.robot_http.close()
        if self.parser is not None:
            await asyncio.to_thread(self.parser.close)
        if self.bot is not None:
            await self.bot.session.close()
        if self.engine is not None:
            await self.engine.dispose()
        if self.isolation is not None:
            await self.isolation.close()
        if self._sqlite_guard is not None:
            self._sqlite_guard.release()
        self.collections.hand_back()
        runtime.thaw()
        logger.info("bot stopped")


def _safe_db(url: str) -> str:
    """The database URL without a password, for the log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url


async def run(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM, then stop cleanly; the exit status.

    A failed start-up check prints its one line to stderr (exit 2 token, 3 database,
    4 migrations, 1 anything else); details go to the (redacted) log at DEBUG level.
    """
    if settings.replica_duties is ReplicaDuties.JOBS:
        os.nice(settings.jobs_nice)  # the chat replicas on this machine go first (0: no change)
    app = BotApp(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, app.request_stop)
    try:
        if await app.start():
            await app.wait()
        return 0
    except StartupError as exc:
        print(exc.line, file=sys.stderr)
        return exc.exit_code
    finally:
        await app.stop()
