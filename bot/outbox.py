"""The one sender of queued messages, within Telegram's limits.

Limits honoured: about 30 messages per second overall, one per second per private chat,
20 per minute per group; a 429 postpones that chat by ``retry_after``; server and network
errors retry with exponential backoff; a chat that blocked the bot is given up (recorded).
Delivery is at-least-once: a row is marked sent right after Telegram accepts it.

Several replicas may run a sender each. A row is sent under a row lock taken with
``FOR UPDATE SKIP LOCKED`` and checked still pending, so no row goes out from two replicas; on
PostgreSQL the limits are also kept in the database (:class:`SharedPace`), so they hold for the
replicas together and not just for each.

A row renders either to one text message or to a list of actions (:mod:`handlers.notices`):
copies of someone's messages followed by a card, or an edit of a message another row sent.
One action goes per pass, within the same limits, and the row's ``progress`` is saved after
each, so a 429 or a restart resumes where it stopped instead of sending copies twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import DEFAULT_LOCALE
from governance.clock import Clock
from handlers.delivery import Action, Copy, Edit, Renderers, Send
from models import outbox, people, replicas
from models.outbox import OutboxMessage, OutboxStatus
from workflows.notices import UnknownNotice, load

#: How long an edit waits for the message it edits to be sent first.
EDIT_WAIT = timedelta(seconds=1)

MAX_ATTEMPTS = 8
_WAIT = -1


@dataclass
class RateLimits:
    global_per_second: int = 30
    private_interval: float = 1.0
    group_per_minute: int = 20


@dataclass
class _Pacer:
    """Remembers recent sends (monotonic seconds) to keep under the limits."""

    limits: RateLimits
    recent: deque[float] = field(default_factory=deque)
    per_chat: dict[int, deque[float]] = field(default_factory=dict)

    def allowed(self, chat_id: int, now: float) -> bool:
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        if len(self.recent) >= self.limits.global_per_second:
            return False
        sent = self.per_chat.setdefault(chat_id, deque())
        window = 60.0 if chat_id < 0 else self.limits.private_interval
        while sent and now - sent[0] >= window:
            sent.popleft()
        cap = self.limits.group_per_minute if chat_id < 0 else 1
        return len(sent) < cap

    def note(self, chat_id: int, now: float) -> None:
        self.recent.append(now)
        self.per_chat.setdefault(chat_id, deque()).append(now)


class Slot(StrEnum):
    TAKEN = "taken"
    CHAT_BUSY = "chat_busy"
    GLOBAL_BUSY = "global_busy"


@dataclass
class SharedPace:
    """The limits kept for all replicas in PostgreSQL (GCRA rows in ``send_pace``).

    Per chat: one message per ``private_interval`` (private) or per 60/``group_per_minute`` s
    (groups, a little slower so that no 60-s window holds more than the limit); overall: the
    global ceiling with a tenth of a second of burst, kept just under ``global_per_second``.
    """

    sessionmaker: async_sessionmaker[AsyncSession]
    limits: RateLimits = field(default_factory=RateLimits)

    @property
    def global_gap(self) -> float:
        return 1.1 / self.limits.global_per_second

    async def take(self, chat_id: int) -> Slot:
        if chat_id < 0:
            gap = 60.0 / self.limits.group_per_minute * 1.05
        else:
            gap = self.limits.private_interval
        async with self.sessionmaker() as session:
            if not await replicas.take_send_slot(session, key=f"chat:{chat_id}", gap=gap, burst=0):
                await session.commit()
                return Slot.CHAT_BUSY
            ok = await replicas.take_send_slot(
                session, key="global", gap=self.global_gap, burst=0.1
            )
            await session.commit()
        return Slot.TAKEN if ok else Slot.GLOBAL_BUSY


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
        shared: bool = False,
    ) -> None:
        self.bot, self.sessionmaker, self.clock, self.i18n = bot, sessionmaker, clock, i18n
        self.renderers = renderers
        self.interval = interval
        self.pacer = _Pacer(limits or RateLimits())
        self.shared = SharedPace(sessionmaker, limits or RateLimits()) if shared else None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Ask for an immediate pass (after a commit that queued something)."""
        self._wake.set()

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
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def send_due(self, limit: int = 100) -> int:
        """Send what is due and allowed now; return how many were sent."""
        async with self.sessionmaker() as session:
            due = await outbox.due_messages(session, now=self.clock.now(), limit=limit)
        sent = 0
        loop = asyncio.get_running_loop()
        for message in due:
            if not self.pacer.allowed(message.chat_id, loop.time()):
                continue
            if self.shared is not None and not await self._shared_slot(message.chat_id):
                continue
            self.pacer.note(message.chat_id, loop.time())
            if await self._deliver(message):
                sent += 1
        return sent

    async def _shared_slot(self, chat_id: int) -> bool:
        """A slot under the replicas' common limits; waits briefly when the ceiling is hit."""
        assert self.shared is not None
        for _ in range(50):
            slot = await self.shared.take(chat_id)
            if slot is not Slot.GLOBAL_BUSY:
                return slot is Slot.TAKEN
            await asyncio.sleep(self.shared.global_gap)
        return False

    async def _locale(self, session: AsyncSession, chat_id: int) -> str:
        if chat_id < 0:
            return DEFAULT_LOCALE
        user = await people.get_user_by_telegram_id(session, chat_id)
        return user.locale if user else DEFAULT_LOCALE

    async def _deliver(self, message: OutboxMessage) -> bool:
        async with self.sessionmaker() as session:
            # another replica's sender holding this row skips it, and finds it sent afterwards
            row = await session.get(
                OutboxMessage, message.id, with_for_update={"skip_locked": True}
            )
            if row is None or row.status != OutboxStatus.PENDING.value:
                return False
            now = self.clock.now()
            try:
                notice = load(row.kind, row.params)
            except UnknownNotice as exc:
                await outbox.mark_final(
                    session, message=row, status=OutboxStatus.FAILED, now=now, error=str(exc)
                )
                await session.commit()
                return False
            try:
                locale = await self._locale(session, row.chat_id)
                with self.i18n.context(), self.i18n.use_locale(locale):
                    steps = self.renderers.render(notice)
                if row.progress >= len(steps):
                    await outbox.mark_sent(session, message=row, now=now, message_id=None)
                    await session.commit()
                    return False
                step = steps[row.progress]
                message_id = await self._perform(session, row, step, now)
                if message_id == _WAIT:
                    await session.commit()
                    return False
            except TelegramRetryAfter as exc:
                until = now + timedelta(seconds=exc.retry_after)
                await outbox.postpone_chat(session, chat_id=row.chat_id, until=until)
                logger.warning("429 for chat {}: retry after {} s", row.chat_id, exc.retry_after)
            except TelegramForbiddenError as exc:
                await outbox.mark_final(
                    session, message=row, status=OutboxStatus.GAVE_UP, now=now, error=str(exc)
                )
                logger.warning("chat {} blocked the bot; message {} given up", row.chat_id, row.id)
            except TelegramBadRequest as exc:
                gone = "chat not found" in str(exc).lower()
                await outbox.mark_final(
                    session,
                    message=row,
                    status=OutboxStatus.GAVE_UP if gone else OutboxStatus.FAILED,
                    now=now,
                    error=str(exc),
                )
                logger.error("message {} refused by Telegram: {}", row.id, exc)
            except (TelegramServerError, TelegramNetworkError, OSError, TimeoutError) as exc:
                if row.attempts + 1 >= MAX_ATTEMPTS:
                    await outbox.mark_final(
                        session, message=row, status=OutboxStatus.FAILED, now=now, error=str(exc)
                    )
                else:
                    delay = timedelta(seconds=min(3600, 2 ** (row.attempts + 1)))
                    await outbox.mark_retry(
                        session, message=row, after=delay, now=now, error=str(exc)
                    )
                logger.warning("message {} not sent yet: {}", row.id, exc)
            except Exception as exc:  # a bug in a renderer, or an error Telegram gives rarely:
                # record it on this row so the rows behind it are not held up forever
                await outbox.mark_final(
                    session,
                    message=row,
                    status=OutboxStatus.FAILED,
                    now=now,
                    error=f"{type(exc).__name__}: {exc}",
                )
                logger.exception("message {} ({}) failed for good", row.id, row.kind)
            else:
                row.progress += 1
                if isinstance(step, Send):
                    row.message_id = message_id
                if row.progress >= len(steps):
                    await outbox.mark_sent(session, message=row, now=now, message_id=row.message_id)
                else:
                    session.add(row)  # the next action goes on a later pass, paced like any
                await session.commit()
                return True
            await session.commit()
            return False

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
        if target.status != OutboxStatus.SENT.value or target.message_id is None:
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
