"""One pacer for everything the bot sends, and the request middleware that applies it to replies.

Telegram's limits are per bot, not per code path: about 30 messages a second overall, about
one a second per private chat, 20 a minute per group. The outbox sender and the interactive
replies of handlers share one :class:`Pacer`, so the group pacer counts the bot's own replies
in that group and the outbox holds back when a handler has just spoken there.

:class:`ReplyPacing` is an aiogram request middleware on the bot's session. For a sending
method called outside the outbox (``message.answer``, ``answer_photo``, ``answer_document``…)
it waits until the pacer allows the send, notes it, and retries a 429 after ``retry_after``
(bounded), so a multi-part answer such as /report's five messages arrives whole instead of losing
its tail to a flood limit. A reply to the person who just acted keeps its immediacy: in a private
chat it counts against the overall limit only (Telegram tolerates a short burst there, and a 429
is retried); in a group it counts against that group's 20 a minute, which the outbox then
respects. Replies go before the outbox: the outbox leaves one slot of the overall ceiling for
each reply waiting (and ``reply_reserve`` slots a second always, 0 by default: a standing
reserve would cost alerts 1/30 of the ceiling while the priority already serves replies within a
slot's time), so a reply never queues behind an alert backlog. The outbox marks its own calls
(:func:`outbox_send`) and paces and retries them itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods.base import TelegramType
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import replicas

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

#: Methods that put a new message into a chat (edits and callback answers are not paced).
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendMediaGroup",
        "sendSticker",
        "sendLocation",
        "sendContact",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)

_IN_OUTBOX: ContextVar[bool] = ContextVar("in_outbox", default=False)


@contextlib.contextmanager
def outbox_send() -> Iterator[None]:
    """Mark the calls made inside as the outbox's own (paced and retried by the outbox)."""
    token = _IN_OUTBOX.set(True)
    try:
        yield
    finally:
        _IN_OUTBOX.reset(token)


@dataclass
class RateLimits:
    global_per_second: int = 30
    private_interval: float = 1.0
    group_per_minute: int = 20
    #: Of the overall ceiling, messages a second the outbox always leaves to direct replies (on
    #: top of one slot per reply waiting, which already puts replies first).
    reply_reserve: int = 0


@dataclass
class Pacer:
    """Remembers recent sends (monotonic seconds) to keep under the limits."""

    limits: RateLimits = field(default_factory=RateLimits)
    recent: deque[float] = field(default_factory=deque)
    per_chat: dict[int, deque[float]] = field(default_factory=dict)
    #: Direct replies waiting for the ceiling right now: the outbox holds back for them.
    replies_waiting: int = 0

    def _ceiling(self, *, reply: bool) -> int:
        """Messages a second this sender may fill: replies the whole ceiling; the outbox less
        the reply reserve and one more slot per reply waiting (replies go first)."""
        if reply:
            return self.limits.global_per_second
        held = self.limits.reply_reserve + self.replies_waiting
        return max(1, self.limits.global_per_second - held)

    def allowed(self, chat_id: int, now: float, *, reply: bool = False) -> bool:
        """Whether a message to ``chat_id`` may go now (``reply``: a direct reply, see above)."""
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        if len(self.recent) >= self._ceiling(reply=reply):
            return False
        if reply and chat_id > 0:
            return True
        sent = self.per_chat.setdefault(chat_id, deque())
        window = 60.0 if chat_id < 0 else self.limits.private_interval
        while sent and now - sent[0] >= window:
            sent.popleft()
        cap = self.limits.group_per_minute if chat_id < 0 else 1
        return len(sent) < cap

    def wait_time(self, chat_id: int, now: float, *, reply: bool = False) -> float:
        """Seconds until :meth:`allowed` may turn true (0 when it already is)."""
        if self.allowed(chat_id, now, reply=reply):
            return 0.0
        waits = []
        cap = self._ceiling(reply=reply)
        if len(self.recent) >= cap:
            waits.append(self.recent[len(self.recent) - cap] + 1.0 - now)
        sent = self.per_chat.get(chat_id)
        if sent and not (reply and chat_id > 0):
            window = 60.0 if chat_id < 0 else self.limits.private_interval
            waits.append(window - (now - sent[0]))
        return max(0.01, min(waits) if waits else 0.01)

    def _window(self, chat_id: int) -> tuple[float, int]:
        """(seconds, messages) a chat may receive: groups per minute, private chats per interval."""
        if chat_id < 0:
            return 60.0, self.limits.group_per_minute
        return self.limits.private_interval, 1

    def chat_ready_at(self, chat_id: int, now: float) -> float:
        """When the chat's own limit lets a message go (a time before ``now`` if it does)."""
        sent = self.per_chat.get(chat_id)
        window, cap = self._window(chat_id)
        if sent is not None:
            while sent and now - sent[0] >= window:
                sent.popleft()
        if not sent or len(sent) < cap:
            return float("-inf")
        return sent[len(sent) - cap] + window

    def global_ready_at(self, now: float) -> float:
        """When the overall ceiling lets the outbox's next message go (``now`` if it does)."""
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        cap = self._ceiling(reply=False)
        if len(self.recent) < cap:
            return now
        return self.recent[len(self.recent) - cap] + 1.0

    def note(self, chat_id: int, now: float, *, reply: bool = False) -> None:
        self.recent.append(now)
        if not (reply and chat_id > 0):
            self.per_chat.setdefault(chat_id, deque()).append(now)


def _chat_of(method: Any) -> int | None:
    chat = getattr(method, "chat_id", None)
    if isinstance(chat, int):
        return chat
    if isinstance(chat, str) and chat.lstrip("-").isdigit():
        return int(chat)
    return None


class ReplyPacing(BaseRequestMiddleware):
    """Pace and 429-retry the sends that do not go through the outbox."""

    def __init__(
        self,
        pacer: Pacer,
        *,
        max_wait: float = 60.0,
        max_retries: int = 5,
        sleep: Callable[[float], Any] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pacer = pacer
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.sleep = sleep
        self.monotonic = monotonic  # the outbox's clock: one time base for the shared pacer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = _chat_of(method)
        if _IN_OUTBOX.get() or chat_id is None or method.__api_method__ not in SENDING_METHODS:
            return await make_request(bot, method)
        waited = 0.0
        for attempt in range(self.max_retries + 1):
            while (pause := self.pacer.wait_time(chat_id, self.monotonic(), reply=True)) > 0:
                if waited >= self.max_wait:
                    break  # waited long enough: try anyway, a 429 is handled below
                self.pacer.replies_waiting += 1  # the outbox leaves the next slot to us
                try:
                    await self.sleep(pause)
                finally:
                    self.pacer.replies_waiting -= 1
                waited += pause
            self.pacer.note(chat_id, self.monotonic(), reply=True)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.max_retries or exc.retry_after > self.max_wait:
                    raise
                logger.warning(
                    "429 on a reply to chat {}: retrying after {} s", chat_id, exc.retry_after
                )
                await self.sleep(exc.retry_after)
                waited += exc.retry_after
        raise AssertionError("unreachable")  # pragma: no cover


class Slot(StrEnum):
    TAKEN = "taken"
    CHAT_BUSY = "chat_busy"
    GLOBAL_BUSY = "global_busy"


@dataclass
class SharedPace:
    """The limits kept for all replicas in PostgreSQL (GCRA rows in ``send_pace``).

    Per chat: one message per ``private_interval`` (private) or per 60/``group_per_minute`` s
    (groups, a little slower so that no 60-s window holds more than the limit); overall: one
    message per 1.03/``global_per_second`` s without burst (29.1/s of 30), which leaves 30 ms
    for the requests' different ways to Telegram before any one-second window could hold 31.
    A chat slot taken while the ceiling is busy is rolled back, so the retry can take it.
    """

    sessionmaker: async_sessionmaker[AsyncSession]
    limits: RateLimits = field(default_factory=RateLimits)

    @property
    def global_gap(self) -> float:
        return 1.03 / self.limits.global_per_second

    def chat_gap(self, chat_id: int) -> float:
        if chat_id < 0:
            return 60.0 / self.limits.group_per_minute * 1.05
        return self.limits.private_interval

    async def take(self, chat_id: int) -> Slot:
        gap = self.chat_gap(chat_id)
        async with self.sessionmaker() as session:
            if not await replicas.take_send_slot(session, key=f"chat:{chat_id}", gap=gap, burst=0):
                await session.commit()
                return Slot.CHAT_BUSY
            if not await replicas.take_send_slot(
                session, key="global", gap=self.global_gap, burst=0.0
            ):
                await session.rollback()  # give the chat's slot back: the retry may take it
                return Slot.GLOBAL_BUSY
            await session.commit()
        return Slot.TAKEN
