"""Direct replies go before the outbox: an alert backlog never makes a person wait for the ceiling.

While a reply waits the outbox holds back one slot of Telegram's overall ceiling for it (and a
standing reserve when one is configured); the reply itself may use the whole ceiling.
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import SendMessage

from bot.fairqueue import FairQueue, Wait
from bot.pacing import Pacer, RateLimits, ReplyPacing


class _Api:
    def __init__(self) -> None:
        self.sent: list[int] = []

    async def __call__(self, bot: Any, method: Any) -> str:
        self.sent.append(int(method.chat_id))
        return "ok"


def drain(pacer: Pacer, queue: FairQueue[int], now: float) -> list[int]:
    """What the outbox sends at ``now``, picking as the sender does, until it must wait."""
    sent = []
    while not isinstance(
        picked := queue.pick(now, pacer.chat_ready_at, pacer.global_ready_at), Wait
    ):
        chat, _row = picked
        pacer.note(chat, now)
        sent.append(chat)
    return sent


def backlog(chats: int) -> FairQueue[int]:
    queue: FairQueue[int] = FairQueue()
    queue.load([(10_000 + row, row) for row in range(chats)], now=0.0)
    return queue


async def test_an_alert_backlog_leaves_the_reserve_to_a_reply_in_the_same_second() -> None:
    pacer = Pacer(RateLimits(global_per_second=30, reply_reserve=1))
    queue = backlog(100)  # 100 alerts to 100 chats: more than three seconds of ceiling
    assert len(drain(pacer, queue, now=100.0)) == 29, "the outbox keeps one slot of 30 free"

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    api = _Api()
    replies = ReplyPacing(pacer, sleep=sleep, monotonic=lambda: 100.0)
    await replies(api, None, SendMessage(chat_id=42, text="/start"))  # type: ignore[arg-type]
    assert api.sent == [42] and slept == [], "the reply went at once, ahead of 71 alerts"


async def test_while_a_reply_waits_for_the_ceiling_the_outbox_holds_back() -> None:
    pacer = Pacer(RateLimits(global_per_second=30))  # no standing reserve: priority alone
    for n in range(30):  # the ceiling is full (replies may fill it all): 100.00 … 100.29
        pacer.note(n, 100.0 + n / 100, reply=True)
    queue = backlog(10)
    alone = pacer.global_ready_at(100.5)  # when the outbox could send, no reply waiting
    seen: list[tuple[int, float]] = []
    clock = [100.5]

    async def sleep(seconds: float) -> None:
        # while the reply sleeps, the outbox looks: it must leave the slot that frees first
        seen.append((pacer.replies_waiting, pacer.global_ready_at(100.5)))
        clock[0] += seconds

    replies = ReplyPacing(pacer, sleep=sleep, monotonic=lambda: clock[0])
    api = _Api()
    await replies(api, None, SendMessage(chat_id=42, text="/accounts"))  # type: ignore[arg-type]
    assert api.sent == [42] and clock[0] == 101.0, "the reply took the first slot to free up"
    assert seen == [(1, seen[0][1])] and seen[0][1] > alone, "the outbox waited one slot more"
    assert pacer.replies_waiting == 0
    assert drain(pacer, queue, now=101.005) == [], "the reply has the freed slot, not an alert"
    assert len(drain(pacer, queue, now=102.5)) == 10
