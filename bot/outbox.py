"""The one sender of queued messages, within Telegram's limits, through any outage.

Limits honoured: about 30 messages per second overall, one per second per private chat,
20 per minute per group (the :class:`~bot.pacing.Pacer` is shared with the handlers' direct
replies); a 429 postpones that chat by ``retry_after``.

What a failure means decides what happens to the row:

- **transient** — a network error, a timeout, a 5xx, an answer that is not JSON (a proxy's 502
  HTML page: aiogram's ``ClientDecodeError``): the row stays pending and is retried without a
  lifetime limit, its backoff doubling up to :data:`MAX_BACKOFF`. The sender also opens its
  *circuit*: while the Bot API is down, one probe goes out per backoff period instead of one
  attempt per chat, and when a probe gets through every row held back by the outage is due again.
  One log line per failed attempt, no traceback.
- **permanent** — the chat does not exist or blocked the bot (``gave_up``), or Telegram refused
  the request itself (bad request, too large: ``failed``). Failed rows are listed in /monitor,
  where an admin can queue them again.

Delivery is **at-least-once**: a row is marked sent in its own transaction right after Telegram
accepts the message, so a crash (kill -9) between the two sends that one message again after the
restart; nothing is lost. The window is one request long: at most one duplicate per crash.

Several replicas may run a sender each. A row is sent under a row lock taken with
``FOR UPDATE SKIP LOCKED`` and checked still pending, so no row goes out from two replicas; on
PostgreSQL the limits are also kept in the database (:class:`SharedPace`), so they hold for the
replicas together and not just for each.

A row renders either to one text message or to a list of actions (:mod:`handlers.notices`):
copies of someone's messages followed by a card, or an edit of a message another row sent.
One action goes per pass, within the same limits, and the row's ``progress`` is saved after
each, so a 429 or a restart resumes where it stopped instead of sending all copies again.
``outbox.error`` never holds the bot token: errors are redacted before they are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from enum import Enum

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.utils.i18n import I18n
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.fairqueue import FairQueue, Wait
from bot.i18n import DEFAULT_LOCALE
from bot.logging import redact
from bot.pacing import Pacer, RateLimits, SharedPace, Slot, outbox_send
from bot.robots import Delivered, RobotDelivery
from governance.clock import Clock
from handlers.delivery import Action, Copy, Edit, Renderers, Send
from models import outbox, people
from models.outbox import OutboxMessage, OutboxStatus
from workflows.notices import UnknownNotice, load

#: How long an edit waits for the message it edits to be sent first.
EDIT_WAIT = timedelta(seconds=1)

#: The longest wait between two attempts of a row, and between two probes of a downed API.
MAX_BACKOFF = timedelta(minutes=10)

_WAIT = -1

#: Failures that say nothing about the message: the Bot API (or the way to it) is unwell.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TelegramServerError,
    ClientDecodeError,
    TelegramUnauthorizedError,  # a proxy answering for Telegram; a token rejected mid-run
    TelegramConflictError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


class _Result(Enum):
    SENT = "sent"
    POSTPONED = "postponed"  # a 429
    FAILED = "failed"  # a permanent answer
    IDLE = "idle"  # Telegram not asked (waiting for an edit's target, already handled)
    TRANSIENT = "transient"


def backoff(failures: int) -> timedelta:
    """2, 4, 8 … seconds after the 1st, 2nd, 3rd … failure in a row, at most :data:`MAX_BACKOFF`."""
    if failures <= 0:
        return timedelta(0)
    seconds = 2 ** min(failures, 20)
    return min(MAX_BACKOFF, timedelta(seconds=seconds))


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TelegramEntityTooLarge):
        return False  # a TelegramNetworkError by inheritance, but about this request
    return isinstance(exc, (TelegramNetworkError, *TRANSIENT_ERRORS))


def short_error(exc: BaseException) -> str:
    """One line about ``exc`` (a decode error's HTML page is left out)."""
    if isinstance(exc, ClientDecodeError):
        original = exc.original
        return f"ClientDecodeError: {exc.message} ({type(original).__name__})"
    if isinstance(exc, TelegramAPIError):
        return f"{type(exc).__name__}: {exc.message}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OutboxSender:
    def __init__(
        self,
        *,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        i18n: I18n,
        renderers: Renderers,
        interval: float = 1.0,
        limits: RateLimits | None = None,
        pacer: Pacer | None = None,
        robots: RobotDelivery | None = None,
        shared: bool = False,
        per_lane: int = 3,
        batch: int = 1000,
    ) -> None:
        self.bot, self.sessionmaker, self.clock, self.i18n = bot, sessionmaker, clock, i18n
        self.renderers = renderers
        #: rows with a ``channel_id`` go to group robots through this (:mod:`bot.robots`)
        self.robots = robots
        self.interval = interval
        self.pacer = pacer or Pacer(limits or RateLimits())
        #: Transient failures in a row; while > 0 the circuit is open until ``probe_at``.
        self.outage_failures = 0
        self.probe_at: datetime | None = None
        #: On PostgreSQL the limits also hold across replicas (rows in ``send_pace``).
        self.shared = SharedPace(sessionmaker, self.pacer.limits) if shared else None
        #: the due rows read from the database, per destination (see :meth:`send_due`)
        self.per_lane, self.batch = per_lane, batch
        self._chats: FairQueue[int] = FairQueue()
        self._robot_rows: FairQueue[int] = FairQueue()
        self._stale = True
        self._refreshed_at = 0.0
        self._locales: dict[int, str] = {}
        self._next_wait = interval
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set after a pass that found nothing it could do now
        self._attempts = 0  # messages the last pass tried (sent, failed, postponed, waited)
        self._task: asyncio.Task[None] | None = None

    @property
    def circuit_open(self) -> bool:
        return self.outage_failures > 0

    def wake(self) -> None:
        """Ask for an immediate pass (after a commit that queued something)."""
        self._stale = True
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        """Return after a fresh pass found nothing it may do at the clock's current time.

        What is due later (a retry, a 429's wait, a paced chat, the circuit's next probe) waits
        for the clock to move; the end-to-end tests wait on this instead of a quiet period.
        """
        if self._task is None or self._task.done():
            return
        self.wake()
        await self._idle.wait()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._attempts = 0
            try:
                sent = await self.send_due(refresh=self._refresh_due())
                if sent:  # one line a pass, after its commits: what another process can wait on
                    logger.info("outbox: {} sent", sent)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox pass failed")
                self._attempts = 0  # e.g. the database is away: wait the interval, not spin
                self._next_wait = self.interval
            if self._attempts:
                continue  # what this pass did may have made more due (the next action, a row)
            if not self._wake.is_set():
                self._idle.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(self.interval, self._next_wait))

    def _refresh_due(self) -> bool:
        """Read the due rows again: after a wake-up, every ``interval``, or with nothing left."""
        if self._stale or not (self._chats or self._robot_rows):
            return True
        return self.clock.monotonic() - self._refreshed_at >= self.interval

    def _secrets(self) -> list[str]:
        return [self.bot.token]

    async def _refresh(self) -> None:
        self._stale = False
        self._locales.clear()
        self._refreshed_at = mono = self.clock.monotonic()
        async with self.sessionmaker() as session:
            due = await outbox.due_lanes(
                session, now=self.clock.now(), per_lane=self.per_lane, limit=self.batch
            )
        chats = {(c, i): n for i, c, channel, n in due if channel is None}
        robots = {(channel, i): n for i, _, channel, n in due if channel is not None}
        self._chats.load(chats, now=mono, backlog={c: n for (c, _), n in chats.items()})
        self._robot_rows.load(robots, now=mono, backlog={r: n for (r, _), n in robots.items()})

    def _robot_ready(self, channel_id: int, now: float) -> float:
        assert self.robots is not None
        return now + self.robots.wait(channel_id, now)

    def _pick(self) -> tuple[bool, int, int] | Wait:
        """The next row: (is it a robot's, destination, row id), or how long until one may go."""
        mono = self.clock.monotonic()
        robot_wait = float("inf")
        if self.robots is not None:
            robot = self._robot_rows.pick(mono, self._robot_ready)
            if not isinstance(robot, Wait):
                return True, *robot
            robot_wait = robot.seconds
        chat = self._chats.pick(mono, self.pacer.chat_ready_at, self.pacer.global_ready_at)
        if not isinstance(chat, Wait):
            return False, *chat
        return Wait(min(chat.seconds, robot_wait))

    async def send_due(self, limit: int | None = None, *, refresh: bool = True) -> int:
        """Send what is due and allowed now; return how many were sent.

        Rows are taken destination by destination (:class:`bot.fairqueue.FairQueue`): the next
        one comes from a chat or robot whose own limit lets it receive now, the one with most
        rows waiting first, in queue order within it; a paced destination never holds up the
        others, and a group robot's rows wait for its window without a database update. The
        pass ends when nothing may go at the clock's current time (``_next_wait`` says how long
        until something may), or after ``interval`` to read newly due rows.
        While the circuit is open only one row (the probe) is tried, once per backoff period.
        """
        now = self.clock.now()
        self._next_wait = self.interval
        if self.circuit_open and self.probe_at is not None and now < self.probe_at:
            self._next_wait = (self.probe_at - now).total_seconds()
            return 0
        if limit is not None:
            self.batch = limit
        if refresh:
            await self._refresh()
        sent = 0
        started = self.clock.monotonic()
        while True:
            if self.clock.monotonic() - started >= self.interval:
                self._next_wait = 0.0  # a long pass: read what became due meanwhile
                break
            pick = self._pick()
            if isinstance(pick, Wait):
                self._next_wait = min(self._next_wait, pick.seconds)
                break
            robot, destination, row_id = pick
            if robot:
                self._attempts += 1
                if await self._deliver_to_robot(row_id):
                    sent += 1
                continue
            if self.shared is not None and not await self._shared_slot(destination):
                continue
            self._attempts += 1
            probing = self.circuit_open
            result = await self._deliver(row_id)
            if result is not _Result.IDLE:  # Telegram was asked: counted from the answer on
                self.pacer.note(destination, self.clock.monotonic())
            if result is _Result.POSTPONED:
                self._chats.drop(destination)  # its rows come back when the 429 has passed
            if result is _Result.TRANSIENT:
                self._chats.clear()  # the API is unwell: the rest waits for a probe
                self._robot_rows.clear()
                break
            if probing and self.circuit_open and result is not _Result.IDLE:
                await self._close_circuit()
            if result is _Result.SENT:
                sent += 1
        return sent

    async def _shared_slot(self, chat_id: int) -> bool:
        """A slot under the replicas' common limits; waits briefly when the ceiling is hit.

        A chat another replica has just written to steps aside (its next rows too).
        """
        assert self.shared is not None
        for _ in range(50):
            slot = await self.shared.take(chat_id)
            if slot is Slot.TAKEN:
                return True
            if slot is Slot.CHAT_BUSY:  # another replica just wrote to it: its rows wait for
                self._chats.drop(chat_id)  # the next reading of the due rows
                return False
            await asyncio.sleep(self.shared.global_gap)
        return False

    async def _deliver_to_robot(self, row_id: int) -> bool:
        """A group-robot row: paced and classified by :class:`bot.robots.RobotDelivery`, apart
        from Telegram's pacer and circuit (a robot platform's trouble says nothing of Telegram's).
        """
        if self.robots is None:
            return False
        return await self.robots.deliver(row_id) is Delivered.SENT

    def _open_circuit(self, now: datetime) -> None:
        self.outage_failures += 1
        self.probe_at = now + backoff(self.outage_failures)

    async def _close_circuit(self) -> None:
        """A probe got through: everything the outage held back is due again."""
        logger.info("Bot API reachable again after {} failed attempts", self.outage_failures)
        self.outage_failures, self.probe_at = 0, None
        self._stale = True
        async with self.sessionmaker() as session:
            await outbox.release_retries(session, now=self.clock.now())
            await session.commit()

    async def _locale(self, session: AsyncSession, chat_id: int) -> str:
        """The chat's language, looked up once per reading of the due rows (a query less per
        message of a backlog; a change of language shows from the next reading, ≤ a second)."""
        if chat_id < 0:
            return DEFAULT_LOCALE
        locale = self._locales.get(chat_id)
        if locale is None:
            user = await people.get_user_by_telegram_id(session, chat_id)
            locale = self._locales[chat_id] = user.locale if user else DEFAULT_LOCALE
        return locale

    async def _deliver(self, row_id: int) -> _Result:
        async with self.sessionmaker() as session:
            # another replica's sender holding this row skips it, and finds it sent afterwards
            row = await session.get(OutboxMessage, row_id, with_for_update={"skip_locked": True})
            if row is None or row.status != OutboxStatus.PENDING:
                return _Result.IDLE
            now = self.clock.now()
            try:
                notice = load(row.kind, row.params)
            except UnknownNotice as exc:
                await outbox.mark_final(
                    session, message=row, status=OutboxStatus.FAILED, now=now, error=str(exc)
                )
                await session.commit()
                return _Result.IDLE
            result = _Result.IDLE
            try:
                locale = await self._locale(session, row.chat_id)
                with self.i18n.context(), self.i18n.use_locale(locale):
                    steps = self.renderers.render(notice)
                if row.progress >= len(steps):
                    await outbox.mark_sent(session, message=row, now=now, message_id=None)
                    await session.commit()
                    return _Result.IDLE
                step = steps[row.progress]
                with outbox_send():
                    message_id = await self._perform(session, row, step, now)
                if message_id == _WAIT:
                    await session.commit()
                    return _Result.IDLE
            except TelegramRetryAfter as exc:
                until = now + timedelta(seconds=exc.retry_after)
                await outbox.postpone_chat(session, chat_id=row.chat_id, until=until)
                logger.warning("429 for chat {}: retry after {} s", row.chat_id, exc.retry_after)
                result = _Result.POSTPONED
            except TelegramForbiddenError as exc:
                await outbox.mark_final(
                    session,
                    message=row,
                    status=OutboxStatus.GAVE_UP,
                    now=now,
                    error=self._error(exc),
                )
                logger.warning("chat {} blocked the bot; message {} given up", row.chat_id, row.id)
                result = _Result.FAILED
            except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as exc:
                gone = "chat not found" in str(exc).lower()
                await outbox.mark_final(
                    session,
                    message=row,
                    status=OutboxStatus.GAVE_UP if gone else OutboxStatus.FAILED,
                    now=now,
                    error=self._error(exc),
                )
                logger.error("message {} refused by Telegram: {}", row.id, self._error(exc))
                result = _Result.FAILED
            except Exception as exc:
                error = self._error(exc)
                if is_transient(exc):
                    await outbox.mark_retry(
                        session, message=row, after=backoff(row.attempts + 1), now=now, error=error
                    )
                    self._open_circuit(now)
                    logger.warning(
                        "message {} not sent yet (attempt {}; next try in {:.0f} s): {}",
                        row.id,
                        row.attempts,
                        backoff(self.outage_failures).total_seconds(),
                        error,
                    )
                    result = _Result.TRANSIENT
                else:  # a bug in a renderer, or a refusal Telegram gives rarely: record it on
                    # this row so the rows behind it are not held up forever
                    await outbox.mark_final(
                        session, message=row, status=OutboxStatus.FAILED, now=now, error=error
                    )
                    if isinstance(exc, TelegramAPIError):
                        logger.error("message {} refused by Telegram: {}", row.id, error)
                    else:
                        logger.opt(exception=exc).error(
                            "message {} ({}) failed for good", row.id, row.kind
                        )
                    result = _Result.FAILED
            else:
                row.progress += 1
                if isinstance(step, Send):
                    row.message_id = message_id
                if row.progress >= len(steps):
                    await outbox.mark_sent(session, message=row, now=now, message_id=row.message_id)
                else:
                    session.add(row)  # the next action goes on a later pass, paced like any
                await session.commit()
                return _Result.SENT
            await session.commit()
            return result

    def _error(self, exc: BaseException) -> str:
        return redact(short_error(exc), self._secrets())

    async def _perform(
        self, session: AsyncSession, row: OutboxMessage, step: Action, now: datetime
    ) -> int | None:
        """Do one action; returns the new message's id (sends), or ``_WAIT``."""
        if isinstance(step, Send):
            sent = await self.bot.send_message(row.chat_id, step.text, reply_markup=step.markup)
            return sent.message_id
        if isinstance(step, Copy):
            copied = await self.bot.copy_message(
                row.chat_id, from_chat_id=step.from_chat_id, message_id=step.message_id
            )
            return copied.message_id
        assert isinstance(step, Edit)
        target = await session.get(OutboxMessage, step.ref)
        if target is None or target.status in (OutboxStatus.FAILED, OutboxStatus.GAVE_UP):
            # the message to edit never arrived: nothing to change, give this up quietly
            await outbox.mark_final(
                session, message=row, status=OutboxStatus.GAVE_UP, now=now, error="no message"
            )
            return _WAIT
        if target.status != OutboxStatus.SENT or target.message_id is None:
            row.next_attempt_at = now + EDIT_WAIT
            session.add(row)
            return _WAIT
        try:
            await self.bot.edit_message_text(
                step.text,
                chat_id=target.chat_id,
                message_id=target.message_id,
                reply_markup=step.markup,
            )
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        return None
