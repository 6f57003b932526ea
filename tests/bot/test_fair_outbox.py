"""Fair scheduling of the outbox (issue 17): whatever the order of the queue, the ceiling stays
busy, no chat's per-second limit holds the others back, no 429, and every chat gets its messages
in queue order. On the injected clock: the fake Bot API's flood limiter reads the same clock."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.fairqueue import FairQueue, Wait
from bot.i18n import build_i18n
from bot.outbox import OutboxSender
from bot.pacing import Pacer, RateLimits
from governance.clock import ManualClock
from governance.robots import LIMITS, RobotKind, next_allowed
from handlers.notices import RENDERERS
from models import outbox
from tests.fakes.floodlimit import FloodLimiter
from tests.fakes.telegram import TOKEN, FakeTelegram

LIMITS_SMALL = RateLimits(global_per_second=10, private_interval=1.0)
STEP = 0.05


def _simulate(
    queue: list[tuple[int, int]], limits: RateLimits
) -> tuple[list[tuple[float, int, int]], FloodLimiter]:
    """Drive a FairQueue with the Pacer on simulated time; returns (time, chat, row) sends."""
    now = 0.0
    pacer = Pacer(limits)
    flood = FloodLimiter(
        per_second=limits.global_per_second,
        private_interval=limits.private_interval,
        clock=lambda: now,
    )
    fair: FairQueue[int] = FairQueue()
    fair.load(queue, now=now)
    sent: list[tuple[float, int, int]] = []
    while len(fair):
        pick = fair.pick(now, pacer.chat_ready_at, pacer.global_ready_at)
        if isinstance(pick, Wait):
            assert pick.seconds < float("inf")
            now += pick.seconds
            continue
        chat, row = pick
        assert flood.admit(chat) == 0
        pacer.note(chat, now)
        sent.append((now, chat, row))
    return sent, flood


def _ceiling(queue: list[tuple[int, int]], limits: RateLimits) -> float:
    busiest = max(Counter(c for c, _ in queue).values())
    outbox = limits.global_per_second - limits.reply_reserve  # the rest is the replies'
    return max(len(queue) / outbox, (busiest - 1) * limits.private_interval)


def _orders(n: int = 120, chats: int = 12) -> dict[str, list[tuple[int, int]]]:
    rng = random.Random(3)
    hot = [0] * 9 + [1 + i % (chats - 1) for i in range(n - 9)]
    rng.shuffle(hot)
    targets = {
        "grouped": [c for c in range(chats) for _ in range(n // chats)],
        "interleaved": [i % chats for i in range(n)],
        "hot": hot,
        "random": [rng.randrange(chats) for _ in range(n)],
    }
    return {k: [(100 + c, i + 1) for i, c in enumerate(v)] for k, v in targets.items()}


@pytest.mark.parametrize("order", ["grouped", "interleaved", "hot", "random"])
def test_any_order_reaches_the_ceiling_without_a_429_and_keeps_each_chat_in_order(
    order: str,
) -> None:
    queue = _orders()[order]
    sent, flood = _simulate(queue, LIMITS_SMALL)
    assert flood.refused == 0 and len(sent) == len(queue)
    per_chat: dict[int, list[int]] = defaultdict(list)
    for _, chat, row in sent:
        per_chat[chat].append(row)
    assert all(rows == sorted(rows) for rows in per_chat.values())
    # within the ceiling's time (a sliding window lets the first second's burst go at once)
    assert sent[-1][0] <= _ceiling(queue, LIMITS_SMALL) + 1e-9


def test_the_busiest_chat_goes_first_when_several_are_free() -> None:
    fair: FairQueue[str] = FairQueue()
    fair.load([("cold", 1), ("hot", 2), ("hot", 3), ("hot", 4)], now=0.0)
    ready = {"hot": float("-inf"), "cold": float("-inf")}
    pick = fair.pick(0.0, lambda key, now: ready[key])
    assert pick == ("hot", 2), "three waiting beat one, though the cold row is older"
    ready["hot"] = 1.0  # its limit: one a second
    assert fair.pick(0.0, lambda key, now: ready[key]) == ("cold", 1), "no head-of-line blocking"
    assert fair.pick(0.5, lambda key, now: ready[key]) == Wait(0.5)
    assert fair.pick(1.0, lambda key, now: ready[key]) == ("hot", 3)


def test_a_paced_chat_steps_aside_and_says_how_long() -> None:
    fair: FairQueue[int] = FairQueue()
    fair.load([(1, 1), (1, 2)], now=0.0)
    ready = {1: float("-inf")}
    assert fair.pick(0.0, lambda key, now: ready[key]) == (1, 1)
    ready[1] = 1.0
    assert fair.pick(0.25, lambda key, now: ready[key]) == Wait(0.75)
    assert fair.pick(1.0, lambda key, now: ready[key]) == (1, 2)
    assert fair.pick(1.0, lambda key, now: ready[key]) == Wait(float("inf"))


def test_the_same_engine_keeps_group_robots_under_their_per_minute_limits() -> None:
    """Two WeCom robots (20 a minute each, kept at 19) and a DingTalk one, 30 rows each."""
    kinds = {1: RobotKind.WECOM, 2: RobotKind.WECOM, 3: RobotKind.DINGTALK}
    sent_at: dict[int, list[float]] = {k: [] for k in kinds}
    fair: FairQueue[int] = FairQueue()
    fair.load([(k, k * 100 + i) for i in range(30) for k in kinds], now=0.0)
    now, order = 0.0, []
    while len(fair):
        pick = fair.pick(now, lambda key, t: next_allowed(kinds[key], sent_at[key], t))
        if isinstance(pick, Wait):
            now += pick.seconds
            continue
        robot, row = pick
        sent_at[robot].append(now)
        order.append((robot, row))
    for robot, times in sent_at.items():
        for window in LIMITS[kinds[robot]].windows:
            for i, t in enumerate(times):
                assert sum(1 for u in times[i:] if u < t + window.seconds) <= window.count
        rows = [r for k, r in order if k == robot]
        assert rows == sorted(rows)
    assert now < 2 * 60.0 + 1, "30 rows at 19 a minute take two minutes, robots in parallel"


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    yield bot
    await bot.session.close()


async def _queue(sessionmaker: Any, clock: ManualClock, chats: list[int]) -> None:
    seq: Counter[int] = Counter()
    async with sessionmaker() as session:
        for chat_id in chats:
            seq[chat_id] += 1
            await outbox.enqueue(
                session,
                chat_id=chat_id,
                kind="user.active_changed",
                params={"who": f"#{seq[chat_id]}#", "active": True},
                now=clock.now(),
            )
        await session.commit()


@pytest.mark.parametrize("order", ["grouped", "hot"])
async def test_the_sender_delivers_any_order_at_the_ceiling_with_no_429(
    order: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    tg: FakeTelegram,
    bot: Bot,
) -> None:
    """60 messages to 12 chats through the real sender and the 429-enforcing fake Bot API;
    each pass is what the running sender does when the clock reaches the next free slot."""
    limits = LIMITS_SMALL
    queue = [(c, r) for c, r in _orders(60, 12)[order]]
    await _queue(sessionmaker, clock, [c for c, _ in queue])
    tg.flood = FloodLimiter(
        per_second=limits.global_per_second,
        private_interval=limits.private_interval,
        clock=clock.monotonic,
    )
    sender = OutboxSender(
        bot=bot,
        sessionmaker=sessionmaker,
        clock=clock,
        i18n=build_i18n(),
        renderers=RENDERERS,
        pacer=Pacer(limits),
    )
    start = clock.monotonic()
    while len(tg.flood.accepted) < len(queue):
        await sender.send_due()
        assert clock.monotonic() - start < 30, "stalled"
        clock.advance(seconds=max(STEP, min(sender._next_wait, 1.0)))
    assert tg.flood.refused == 0
    elapsed = tg.flood.accepted[-1][0] - start
    assert elapsed <= _ceiling(queue, limits) + STEP
    got: dict[int, list[int]] = defaultdict(list)
    for call in tg.calls:
        if call.method == "sendMessage":
            got[call.chat_id or 0].append(int(call.text.split("#")[1]))
    assert all(seq == list(range(1, len(seq) + 1)) for seq in got.values())
