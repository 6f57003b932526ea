"""``python -m bot demo``: the real bot against the embedded Bot API, the feed farm and a page.

One aiohttp server on 127.0.0.1 serves the embedded Bot API (for the bot), the feed farm (for the
poller) and the page (for you). The :class:`~bot.app.BotApp` is the production one: the same
dispatcher, scheduler, outbox sender, poller and checker; only its settings differ — the Bot API
base is the embedded one, the SSRF guard allows the farm's address and nothing else
(``FEED_ALLOWED_ONLY``), Telegram's rate limits are loosened (there is no Telegram) and the jobs
run every minute. Nothing leaves the machine.

State lives in ``demo/`` (the SQLite database and ``state.json``: the scenario's epoch, the
clock's time and the port; ``chats.json``: the conversations) so a second run continues where
the first stopped; ``--fresh`` starts over in a temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import webbrowser
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from loguru import logger

from bot import db
from bot.app import BotApp
from bot.demo import scenario
from bot.demo.botapi import BotApiCore
from bot.demo.farm import FeedFarm
from bot.demo.web import DemoControls, build_demo_app
from bot.replicas import SqliteGuard
from bot.settings import Settings
from bot.telegram import StartupError
from governance.clock import ScaledClock
from governance.errors import ConfigurationError
from jobs.polltypes import guard_policy

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8765
TZ = "Asia/Shanghai"
#: What the clock's jump runs at once, in this order (the scheduler runs them by itself too).
JOBS_AFTER_JUMP = (
    "poll_feeds",
    "evaluate_accounts",
    "check_cases",
    "review_reminders",
    "review_expiry",
)


@dataclass(slots=True)
class DemoOptions:
    directory: Path = Path("demo")
    fresh: bool = False
    port: int = DEFAULT_PORT
    speed: float = 1.0
    open_browser: bool = True


class Demo:
    """The running demo; ``async with Demo(options) as demo: demo.url``."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.directory = options.directory
        self.state: dict[str, object] = {}
        self.clock: ScaledClock | None = None
        self.api: BotApiCore | None = None
        self.farm: FeedFarm | None = None
        self.app: BotApp | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.port = 0
        self._jumping = asyncio.Lock()
        self._warmup: asyncio.Task[None] | None = None
        self._days: asyncio.Task[None] | None = None
        self._guard: SqliteGuard | None = None
        self.ready = asyncio.Event()
        """Set once the first poll and evaluation after start-up are done and sent."""

    async def __aenter__(self) -> Demo:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- start ----------------------------------------------------------------------------

    def _load_state(self) -> bool:
        """Whether a seeded demo is there to continue (the directory is ours from here on)."""
        if self.options.fresh:
            self._tmp = tempfile.TemporaryDirectory(prefix="govbot-demo-")
            self.directory = Path(self._tmp.name)
        self.directory.mkdir(parents=True, exist_ok=True)
        guard = SqliteGuard(self.directory / "demo")
        try:
            guard.acquire()
        except ConfigurationError:
            raise ConfigurationError(
                f"演示目录 {self.directory} 正被另一个演示进程使用：请先停止它，"
                "或用 --dir 换一个目录、用 --fresh 在临时目录中运行。"
            ) from None
        self._guard = guard
        path = self.directory / "state.json"
        if path.is_file() and (self.directory / "bot.db").is_file():
            self.state = json.loads(path.read_text(encoding="utf-8"))
            return True
        (self.directory / "bot.db").unlink(missing_ok=True)
        now = datetime.now(UTC).replace(microsecond=0)
        self.state = {"epoch": now.isoformat(), "now": now.isoformat()}
        return False

    def save_state(self) -> None:
        if self.clock is not None:
            self.state["now"] = self.clock.now().isoformat()
        self.state["port"] = self.port
        path = self.directory / "state.json"
        path.write_text(json.dumps(self.state, ensure_ascii=False, indent=1), encoding="utf-8")
        if self.api is not None:
            chats = json.dumps(self.api.dump(), ensure_ascii=False)
            (self.directory / "chats.json").write_text(chats, encoding="utf-8")

    async def _listen(self, app: web.Application) -> None:
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        try:
            site = web.TCPSite(self.runner, LOOPBACK, self.options.port)
            await site.start()
        except OSError:
            if self.options.port == 0:
                raise
            logger.warning("port {} is taken; using a free one", self.options.port)
            site = web.TCPSite(self.runner, LOOPBACK, 0)
            await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://{LOOPBACK}:{self.port}"

    def settings(self) -> Settings:
        assert self.api is not None
        values: dict[str, Any] = {
            "bot_token": self.api.token,
            "admin_ids": [],
            "database_url": f"sqlite+aiosqlite:///{self.directory / 'bot.db'}",
            "telegram_api_base": self.url,
            "telegram_api_local": False,
            "telegram_proxy": None,
            "bot_mode": "polling",
            "webhook_url": None,
            "metrics_port": None,
            "redis_url": None,
            "rsshub_base": None,
            "alert_chat_id": scenario.ALERT_CHAT_ID,
            "allow_private_feeds": False,
            "allow_private_links": False,
            "allow_private_robots": False,
            "feed_allowed_hosts": [LOOPBACK],
            "feed_allowed_only": True,
            "demo_tour": True,
            "quality_extra_file": None,
            "polling_timeout": 10,
            "outbox_interval": 0.2,
            # there is no Telegram to protect; the pacing code still runs
            "outbox_private_interval": 0.05,
            "outbox_group_per_minute": 600,
            "poll_tick_seconds": 10,
            "poll_host_spacing_ms": 0,
            "feed_parse_workers": 0,
            "evaluate_minutes": 1,
            "case_check_minutes": 1,
            "review_check_minutes": 1,
            "migrate_on_start": False,
            "log_level": os.environ.get("LOG_LEVEL", "WARNING"),
        }
        settings = Settings(_env_file=None, **values)
        self._check_offline(settings)
        return settings

    def _check_offline(self, settings: Settings) -> None:
        """Refuse to start unless Telegram and the internet are out of reach."""
        policy = guard_policy(settings)
        if not (
            settings.telegram_api_base == self.url
            and settings.telegram_proxy is None
            and policy.only_allowed
            and policy.allowed_hosts == frozenset({LOOPBACK})
            and settings.closed_network == frozenset({LOOPBACK})
            and not settings.allow_private_feeds
            and settings.rsshub_base is None
        ):
            raise RuntimeError("demo settings would reach beyond this machine")

    async def start(self) -> None:
        continuing = self._load_state()
        epoch = datetime.fromisoformat(str(self.state["epoch"]))
        self.clock = ScaledClock(
            start=datetime.fromisoformat(str(self.state["now"])), speed=self.options.speed
        )
        clock = self.clock
        self.api = BotApiCore(now=lambda: clock.now().timestamp())
        chats = self.directory / "chats.json"
        if continuing and chats.is_file():
            self.api.load(json.loads(chats.read_text(encoding="utf-8")))
        scenario.add_people(self.api)
        controls = DemoControls(
            now=clock.now, speed=self.options.speed, advance=self.advance, timezone=TZ
        )
        app = build_demo_app(self.api, controls)
        self.farm = FeedFarm(now=clock.now, base="http://placeholder")
        self.farm.routes(app)
        await self._listen(app)
        self.farm.base = self.url
        for profile in scenario.profiles(epoch):
            self.farm.add(profile)
        settings = self.settings()
        url = settings.database_url
        await db.upgrade(url)
        if continuing:
            await self._follow_port(url, old=self.state.get("port"))
        else:
            engine = db.create_engine(url)
            try:
                await scenario.seed(db.make_sessionmaker(engine), farm=self.farm, epoch=epoch)
            finally:
                await engine.dispose()
        self.save_state()
        self.app = BotApp(settings, clock=clock, migrate=False)
        if not await self.app.start():
            raise RuntimeError("the bot did not start")
        if not continuing:
            assert self.app.sessionmaker is not None
            await scenario.submit_drafts(
                self.app.sessionmaker,
                api=self.api,
                checker=self.app.live_checker.holder.current,
                max_chars=settings.review_draft_max_chars,
                prefix=settings.review_number_prefix,
                now=clock.now(),
                tz=settings.tz,
            )
        self._warmup = asyncio.create_task(self._first_pass(), name="demo-warmup")
        if self.options.speed > 1:
            self._days = asyncio.create_task(self._watch_days(), name="demo-days")

    async def _follow_port(self, url: str, *, old: object) -> None:
        """The farm moved to another port: its feed URLs in the database follow."""
        if not old or old == self.port:
            return
        engine = db.create_engine(url)
        try:
            async with engine.begin() as conn:
                moved = {"old": f"http://{LOOPBACK}:{old}/", "new": f"{self.url}/"}
                await conn.execute(
                    sa.text("UPDATE accounts SET feed_url = replace(feed_url, :old, :new)"), moved
                )
                # the same feeds at a new address: their poll state (validators included) follows
                await conn.execute(
                    sa.text("UPDATE feed_state SET feed_url = replace(feed_url, :old, :new)"), moved
                )
        finally:
            await engine.dispose()

    async def _first_pass(self) -> None:
        try:
            await self.run_jobs()
            if self.app is not None:
                await self.app.idle()  # the seeded drafts' cards and the first alerts are out
        except Exception as exc:  # the scheduler retries on its own; the page stays up
            logger.opt(exception=exc).warning("demo: first poll failed")
        finally:
            self.ready.set()

    # --- the clock ------------------------------------------------------------------------

    async def run_jobs(self, *, also: tuple[str, ...] = ()) -> None:
        """Run the clock-driven jobs now, from the one scheduler's own registrations."""
        assert self.app is not None and self.app.scheduler is not None
        async with self._jumping:
            for job_id in JOBS_AFTER_JUMP + also:
                job = self.app.scheduler.get_job(job_id)
                if job is not None:
                    await job.func(*job.args, **job.kwargs)
            if self.app.sender is not None:
                self.app.sender.wake()

    def clock_view(self) -> dict[str, object]:
        assert self.clock is not None
        return {"now": self.clock.now().isoformat(), "speed": self.clock.speed, "timezone": TZ}

    async def advance(self, delta: timedelta) -> datetime:
        """Jump the clock forward and let monitoring catch up at once."""
        assert self.clock is not None
        before = self.clock.now()
        after = self.clock.advance(delta)
        self.save_state()
        if self.api is not None:  # the page shows the new time before the alerts arrive
            self.api.publish({"type": "clock", **self.clock_view()})
        await self.run_jobs(also=self.digests_between(before, after))
        return after

    def digests_between(self, before: datetime, after: datetime) -> tuple[str, ...]:
        """The digests whose time of day (``DIGEST_TIME``) the demo clock passed: their cron
        triggers follow the wall clock, not the demo's."""
        assert self.app is not None
        settings = self.app.settings
        hour, minute = settings.digest_hour_minute
        found: list[str] = []
        day = before.astimezone(settings.tz).date()
        while (moment := datetime.combine(day, time(hour, minute), settings.tz)) <= after:
            if moment > before:
                weekly = moment.strftime("%a").lower() == settings.weekly_digest_day
                found += ["daily_digest", "weekly_digest"] if weekly else ["daily_digest"]
            day += timedelta(days=1)
        return tuple(dict.fromkeys(found))  # each once, however long the jump

    async def _watch_days(self, every: float = 2.0) -> None:
        """With ``--speed``: run the digests when the demo's day reaches their time."""
        assert self.clock is not None
        seen = self.clock.now()
        while True:
            await asyncio.sleep(every)  # real time: the demo clock runs on by itself
            now = self.clock.now()
            digests = self.digests_between(seen, now)
            seen = now
            if digests:
                try:
                    await self.run_jobs(also=digests)
                except Exception as exc:
                    logger.opt(exception=exc).warning("demo: digest failed")

    # --- stop -----------------------------------------------------------------------------

    async def stop(self) -> None:
        if self._warmup is not None:  # a first poll cut off mid-write only makes noise
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(self._warmup), 5)
        for task in (self._warmup, self._days):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.api is not None:
            await self.api.close()
        if self.app is not None:
            await self.app.stop()
        if self.port and self._tmp is None:
            self.save_state()
        if self.runner is not None:
            await self.runner.cleanup()
        if self._guard is not None:
            self._guard.release()
        if self._tmp is not None:
            self._tmp.cleanup()


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


async def run_demo(options: DemoOptions) -> int:
    """Serve the demo until Ctrl+C."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    try:
        async with Demo(options) as demo:
            print(f"演示已启动 / demo running: {demo.url}/", flush=True)
            print(
                f"数据目录 / data: {demo.directory}{'（临时）' if options.fresh else ''}；"
                "按 Ctrl+C 退出 / Ctrl+C to stop",
                flush=True,
            )
            if options.open_browser and _has_display():
                with contextlib.suppress(webbrowser.Error):
                    webbrowser.open(f"{demo.url}/")
            await stopping.wait()
            print("正在停止… / stopping…", flush=True)
    except StartupError as exc:
        print(exc.line, file=sys.stderr)
        return exc.exit_code
    except ConfigurationError as exc:  # e.g. another demo already runs on this directory
        print(str(exc), file=sys.stderr)
        return 2
    return 0
