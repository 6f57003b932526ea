"""Delivery of outbox rows to group robots (WeCom, DingTalk, Feishu).

The outbox sender (:mod:`bot.outbox`) hands every row with a ``channel_id`` to
:class:`RobotDelivery`, which renders the notice exactly as for Telegram, turns it into the
platform's message (:func:`governance.robots.robot_message`), signs it, and posts it through the
SSRF-guarded session (:func:`make_robot_session`; ``ALLOW_PRIVATE_ROBOTS`` lifts the private
ranges for an intranet 浙政钉 gateway, and for tests' loopback fakes).

Per robot it keeps the platform's limits (:data:`governance.robots.LIMITS`) in memory: a row
for a robot that used its window waits without an attempt. What the platform answers decides
the row: rate-limited → the robot rests for the platform's pause and the row is tried again;
transient (system busy, 5xx, network) → retried with the sender's backoff; permanent (invalid
key or token, signature refused, keyword or IP refused) → the row fails and shows in /monitor
like any failed row. The webhook and secret are never logged: errors name the channel by id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import aiohttp
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import DEFAULT_LOCALE
from bot.logging import redact
from feeds.netguard import GuardPolicy, URLRefused, check_url, guarded_connector
from governance.clock import Clock
from governance.robots import (
    LIMITS,
    RATE_LIMIT_PAUSE,
    RobotAnswer,
    RobotKind,
    RobotMessage,
    RobotOutcome,
    classify,
    dingtalk_signed_url,
    feishu_sign,
    html_to_markdown,
    next_allowed,
    robot_message,
)
from handlers.delivery import Edit, Renderers, Send
from models import outbox
from models.outbox import OutboxMessage, OutboxStatus
from models.people import User
from models.robots import RobotChannel
from workflows.notices import UnknownNotice, load

#: The longest wait between two attempts of a robot row after transient failures.
MAX_BACKOFF = timedelta(minutes=10)
TITLE_CHARS = 40


def make_robot_session(policy: GuardPolicy) -> aiohttp.ClientSession:
    """The robots' one session: guarded resolver, no proxies from the environment, no cookies."""
    return aiohttp.ClientSession(
        connector=guarded_connector(policy, limit=20, limit_per_host=4),
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


def backoff(failures: int) -> timedelta:
    seconds = 2 ** min(max(failures, 1), 20)
    return min(MAX_BACKOFF, timedelta(seconds=seconds))


class RobotClient:
    """Posts one message to one robot and classifies the answer."""

    def __init__(
        self, http: aiohttp.ClientSession, *, policy: GuardPolicy, timeout: float = 10.0
    ) -> None:
        self.http, self.policy = http, policy
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))

    async def post(
        self, channel: RobotChannel, message: RobotMessage, *, now: datetime
    ) -> RobotAnswer:
        url, body = channel.webhook, dict(message.body)
        if channel.kind is RobotKind.DINGTALK and channel.secret:
            url = dingtalk_signed_url(url, channel.secret, int(now.timestamp() * 1000))
        elif channel.kind is RobotKind.FEISHU and channel.secret:
            timestamp = int(now.timestamp())
            body["timestamp"] = str(timestamp)
            body["sign"] = feishu_sign(channel.secret, timestamp)
        try:
            check_url(url, policy=self.policy)
        except URLRefused as exc:
            return RobotAnswer(RobotOutcome.PERMANENT, None, f"webhook refused: {exc.message}")
        async with self.http.post(
            url, json=body, timeout=self.timeout, allow_redirects=False
        ) as response:
            raw = await response.read()
            try:
                parsed: Any = json.loads(raw.decode("utf-8", errors="replace")) if raw else None
            except ValueError:
                parsed = None
            return classify(channel.kind, response.status, parsed)


class Delivered(Enum):
    SENT = "sent"
    WAITING = "waiting"  # nothing asked of the platform (paced, paused, not pending)
    RETRY = "retry"
    FAILED = "failed"


@dataclass(slots=True)
class _RobotState:
    kind: RobotKind | None = None
    sent_at: list[float] = field(default_factory=list)
    resting_until: float = 0.0


class RobotDelivery:
    def __init__(
        self,
        *,
        client: RobotClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        i18n: I18n,
        renderers: Renderers,
        on_post: Callable[[int], None] | None = None,
    ) -> None:
        self.client, self.sessionmaker, self.clock = client, sessionmaker, clock
        self.i18n, self.renderers = i18n, renderers
        self._robots: dict[int, _RobotState] = {}
        self._on_post = on_post

    def _state(self, channel_id: int) -> _RobotState:
        return self._robots.setdefault(channel_id, _RobotState())

    def wait(self, channel_id: int, monotonic: float) -> float:
        """Seconds until the robot may be sent to (its limits, any rest after a rate limit)."""
        state = self._state(channel_id)
        earliest = max(monotonic, state.resting_until)
        if state.kind is not None:
            earliest = max(earliest, next_allowed(state.kind, state.sent_at, monotonic))
        return earliest - monotonic

    def allowed(self, channel_id: int, monotonic: float) -> bool:
        return self.wait(channel_id, monotonic) <= 0

    def _note(self, channel_id: int, monotonic: float) -> None:
        state = self._state(channel_id)
        longest = max(w.seconds for k in LIMITS.values() for w in k.windows)
        state.sent_at = [t for t in state.sent_at if t > monotonic - longest]
        state.sent_at.append(monotonic)

    async def deliver(self, message_id: int) -> Delivered:
        async with self.sessionmaker() as session:
            row = await session.get(OutboxMessage, message_id)
            if row is None or row.status != OutboxStatus.PENDING or row.channel_id is None:
                return Delivered.WAITING
            now = self.clock.now()
            channel = await session.get(RobotChannel, row.channel_id)
            if channel is None or not channel.active:
                await outbox.mark_final(
                    session,
                    message=row,
                    status=OutboxStatus.GAVE_UP,
                    now=now,
                    error="robot channel paused or removed",
                )
                await session.commit()
                return Delivered.FAILED
            state = self._state(row.channel_id)
            state.kind = channel.kind
            mono = self.clock.monotonic()
            if not self.allowed(row.channel_id, mono):
                return Delivered.WAITING
            try:
                message = await self._message(session, row, channel)
            except UnknownNotice as exc:
                await outbox.mark_final(
                    session, message=row, status=OutboxStatus.FAILED, now=now, error=str(exc)
                )
                await session.commit()
                return Delivered.FAILED
            self._note(row.channel_id, mono)
            secrets = [channel.webhook, channel.secret or ""]
            try:
                answer = await self.client.post(channel, message, now=now)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                answer = RobotAnswer(
                    RobotOutcome.TRANSIENT, None, f"{type(exc).__name__}: {text}".rstrip(": ")
                )
            if self._on_post is not None:
                self._on_post(row.channel_id)
            error = redact(
                f"{channel.kind.value} robot {channel.id}: {answer.code} {answer.message}".strip(),
                secrets,
            )
            if answer.outcome is RobotOutcome.SENT:
                await outbox.mark_sent(session, message=row, now=now, message_id=None)
                result = Delivered.SENT
            elif answer.outcome is RobotOutcome.RATE_LIMITED:
                pause = RATE_LIMIT_PAUSE[channel.kind]
                state.resting_until = mono + pause
                await outbox.mark_retry(
                    session, message=row, after=timedelta(seconds=pause), now=now, error=error
                )
                logger.warning("{}: rate limited, resting {:.0f} s", error, pause)
                result = Delivered.RETRY
            elif answer.outcome is RobotOutcome.TRANSIENT:
                after = backoff(row.attempts + 1)
                await outbox.mark_retry(session, message=row, after=after, now=now, error=error)
                logger.warning("outbox {} not delivered yet: {}", row.id, error)
                result = Delivered.RETRY
            else:
                await outbox.mark_final(
                    session, message=row, status=OutboxStatus.FAILED, now=now, error=error
                )
                logger.error("outbox {} refused for good: {}", row.id, error)
                result = Delivered.FAILED
            await session.commit()
            return result

    async def _message(
        self, session: AsyncSession, row: OutboxMessage, channel: RobotChannel
    ) -> RobotMessage:
        notice = load(row.kind, row.params)
        mobiles: list[str] = []
        if row.mention_user_id is not None:
            person = await session.get(User, row.mention_user_id)
            if person is not None and person.active and person.mobile:
                mobiles.append(person.mobile)
        with self.i18n.context(), self.i18n.use_locale(DEFAULT_LOCALE):
            steps = self.renderers.render(notice)
            texts = [s.text for s in steps if isinstance(s, (Send, Edit))]
            html = "\n\n".join(texts)
            note = _("内容过长，已截断，完整内容请在 Telegram 中查看")
        first = html_to_markdown(html, plain=True).split("\n", 1)[0]
        return robot_message(
            channel.kind,
            html,
            title=first[:TITLE_CHARS] or notice.kind,
            truncated_note=note,
            mobiles=mobiles,
        )
