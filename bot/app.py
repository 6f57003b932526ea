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
from aiogram.fsm.storage.base import BaseStorage
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.activity import UpdateActivity
from bot.dispatcher import build_dispatcher
from bot.fsm_storage import DatabaseStorage
from bot.i18n import build_i18n
from bot.outbox import OutboxSender
from bot.pacing import Pacer, RateLimits, ReplyPacing
from bot.robots import RobotClient, RobotDelivery, make_robot_session
from bot.scheduler import build_scheduler
from bot.settings import Settings
from bot.transaction import CommitBeforeReply
from feeds.fetch import make_feed_session, probe_feed
from feeds.netguard import GuardPolicy, feed_url_refusal
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
        self.robot_http: aiohttp.ClientSession | None = None
        self.storage: BaseStorage | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.sender: OutboxSender | None = None
        self.live_checker = LiveChecker(extra_file=settings.quality_extra_file)
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
        self._polling: asyncio.Task[None] | None = None
        self.activity = UpdateActivity()

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
        base = self.settings.telegram_api_base
        if base:
            server = TelegramAPIServer.from_base(base)
            plain = base.startswith("http://")
            session = PlainHttpSession(api=server) if plain else AiohttpSession(api=server)
        bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
        bot.session.middleware(CommitBeforeReply())  # nothing confirms what is not committed
        # direct replies share the outbox's pacer and get their 429s retried
        bot.session.middleware(ReplyPacing(self.pacer, monotonic=self.clock.monotonic))
        return bot

    async def start(self) -> None:
        """Bring everything up and start long polling in the background."""
        settings = self.settings
        if self.migrate:
            await db.upgrade(settings.database_url)
        self.engine = db.create_engine(settings.database_url)
        self.sessionmaker = db.make_sessionmaker(self.engine)
        self.storage = self._storage(self.sessionmaker)
        self.bot = self._bot()
        i18n = build_i18n()
        policy = self.guard_policy()
        self.http = make_feed_session(
            policy, limit=settings.poll_concurrency, limit_per_host=settings.poll_per_host
        )
        self.parser = FeedParser(
            workers=settings.feed_parse_workers, timeout=settings.feed_parse_timeout
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
        robot_policy = GuardPolicy(allow_private=settings.allow_private_robots)
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
        )
        self.scheduler.start()
        self.sender.start()
        self._polling = asyncio.create_task(
            self.dp.start_polling(
                self.bot,
                handle_signals=False,
                close_bot_session=False,
                polling_timeout=settings.polling_timeout,
            ),
            name="polling",
        )
        me = await self.bot.me()
        logger.info("bot @{} started; database {}", me.username, _safe_db(settings.database_url))

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

    async def idle(self) -> None:
        """Return once the bot has nothing left to do at the clock's current time.

        Every update handed to the dispatcher is handled and committed, and the outbox sender
        made a pass that found nothing it may send now. Updates Telegram has not delivered yet
        are the caller's to account for (the tests' fake Bot API knows them).
        """
        while True:
            await self.activity.quiet()
            if self.sender is not None:
                await self.sender.idle()
            if self.activity.in_flight == 0:
                return

    async def wait(self) -> None:
        if self._polling is not None:
            await self._polling

    async def stop(self) -> None:
        """Stop polling, the scheduler and the sender; close sessions and the engine."""
        if self.dp is not None and self._polling is not None and not self._polling.done():
            with contextlib.suppress(RuntimeError):
                await self.dp.stop_polling()
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
        if self.robot_http is not None:
            await self.robot_http.close()
        if self.parser is not None:
            await asyncio.to_thread(self.parser.close)
        if self.bot is not None:
            await self.bot.session.close()
        if self.engine is not None:
            await self.engine.dispose()
        logger.info("bot stopped")


class PlainHttpSession(AiohttpSession):
    """The session for a local Bot API server over plain HTTP: closing it need not wait the
    quarter second aiogram gives TLS connections to shut down."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


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
