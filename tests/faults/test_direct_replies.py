"""Direct replies go through the shared pacer and survive 429s: a multi-part answer arrives whole,
and the group pacer counts the bot's own replies in that group."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage

from bot.pacing import Pacer, RateLimits, ReplyPacing, outbox_send
from tests.conftest import ADMIN_ID
from tests.e2e.test_reports import _two_units
from tests.fakes.feeds import FeedServer
from tests.fakes.telegram import FakeTelegram

GROUP = -100123


class _Api:
    """Stands in for the HTTP call below the middleware; fails with 429 as told."""

    def __init__(self, fail_times: int = 0) -> None:
        self.calls = 0
        self.fail_times = fail_times

    async def __call__(self, bot: Any, method: Any) -> str:
        self.calls += 1
        if self.calls <= self.fail_times:
            raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=3)
        return "ok"


async def test_a_reply_hit_by_429_is_sent_again_after_retry_after() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    api = _Api(fail_times=2)
    middleware = ReplyPacing(Pacer(), sleep=sleep)
    answer = await middleware(api, None, SendMessage(chat_id=42, text="hi"))  # type: ignore[arg-type]
    assert answer == "ok" and api.calls == 3 and slept == [3, 3]


async def test_the_group_pacer_counts_the_bots_own_replies_in_that_group() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise TimeoutError  # stop at the first wait: it is the proof

    pacer = Pacer(RateLimits(group_per_minute=20))
    middleware = ReplyPacing(pacer, sleep=sleep)
    api = _Api()
    for _ in range(20):
        await middleware(api, None, SendMessage(chat_id=GROUP, text="reply"))  # type: ignore[arg-type]
    now = asyncio.get_running_loop().time()
    assert not pacer.allowed(GROUP, now), "the outbox now holds its group messages back"
    with pytest.raises(TimeoutError):
        await middleware(api, None, SendMessage(chat_id=GROUP, text="21st"))  # type: ignore[arg-type]
    assert slept and slept[0] > 1, "the 21st reply in a minute waits for the group window"
    assert api.calls == 20


async def test_the_outbox_own_sends_are_left_to_the_outbox() -> None:
    pacer = Pacer()
    api = _Api(fail_times=1)
    middleware = ReplyPacing(pacer)
    with outbox_send(), pytest.raises(TelegramRetryAfter):  # the outbox handles its own 429s
        await middleware(api, None, SendMessage(chat_id=42, text="x"))  # type: ignore[arg-type]
    assert 42 not in pacer.per_chat


async def test_a_report_hit_by_429_on_a_chart_is_delivered_whole(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    await _two_units(app, clock, feeds)
    admin = tg.user(ADMIN_ID, "王主任")
    menu = (await admin.send("/report"))[-1]
    scope = (await admin.press(menu, "本季度"))[-1]
    tg.fail_next("sendPhoto", code=429, retry_after=1)
    mark = tg.mark()
    await admin.press(scope, "全部单位")
    await tg.wait_for(lambda c: c.method == "sendPhoto" and c.text == "问题类别分布", since=mark)
    photos = [c for c in tg.calls[mark:] if c.method == "sendPhoto"]
    assert [p.message_id is not None for p in photos] == [False, True, True, True]
    assert [p.text for p in photos[1:]] == ["各单位每周发布数", "账号更新状态", "问题类别分布"]
    await tg.wait_for(lambda c: c.method == "sendDocument", since=mark)
    assert not any("意外错误" in c.text for c in tg.sent_to(ADMIN_ID, since=mark))
