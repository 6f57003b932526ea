"""Outbox rows for group robots: signed, paced within each platform's limits, errors classified."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import BotApp
from governance.clock import ManualClock
from governance.robots import RobotKind
from models import outbox
from models import robots as channels
from models.outbox import OutboxMessage, OutboxStatus
from tests.fakes.robots import FakeRobot, RobotServer
from tests.fakes.telegram import FakeTelegram
from workflows.notices import RobotTest
from workflows.notify import enqueue_robot


@pytest.fixture
async def robots(clock: ManualClock) -> AsyncIterator[RobotServer]:
    async with RobotServer(clock=clock) as server:
        yield server


async def _channel(app: BotApp, clock: ManualClock, kind: RobotKind, robot: FakeRobot) -> int:
    async with app.sessionmaker() as session:
        channel = await channels.add_channel(
            session,
            kind=kind,
            name=f"{kind.value}群",
            unit_id=None,
            webhook=robot.webhook,
            secret=robot.secret,
            now=clock.now(),
            created_by=None,
        )
        await session.commit()
        assert channel.id is not None
        return channel.id


async def _queue(app: BotApp, clock: ManualClock, channel_ids: list[int], n: int) -> None:
    async with app.sessionmaker() as session:
        for i in range(n):
            for channel_id in channel_ids:
                await enqueue_robot(
                    session,
                    RobotTest(channel_name=f"第{i}条", requested_by="测试"),
                    channel_id=channel_id,
                    now=clock.now(),
                )
        await session.commit()
    assert app.sender is not None
    app.sender.wake()


async def _rows(app: BotApp) -> list[OutboxMessage]:
    async with app.sessionmaker() as session:
        return list(await session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_each_platform_receives_a_signed_message(
    app: BotApp, robots: RobotServer, clock: ManualClock
) -> None:
    wecom, ding, feishu = robots.wecom(), robots.dingtalk(), robots.feishu()
    ids = [
        await _channel(app, clock, RobotKind.WECOM, wecom),
        await _channel(app, clock, RobotKind.DINGTALK, ding),
        await _channel(app, clock, RobotKind.FEISHU, feishu),
    ]
    await _queue(app, clock, ids, 1)
    for robot in (wecom, ding, feishu):
        await robots.wait_for(robot, 1)
    assert wecom.received[0]["msgtype"] == "markdown"
    assert "**测试消息**" in wecom.received[0]["markdown"]["content"]
    assert "第0条" in ding.received[0]["markdown"]["text"]
    assert "第0条" in feishu.received[0]["content"]["text"]
    assert ding.bad_signatures == feishu.bad_signatures == 0
    await app.idle()
    assert {r.status for r in await _rows(app)} == {OutboxStatus.SENT}


async def test_invalid_key_fails_the_row_without_showing_the_key(
    app: BotApp, robots: RobotServer, clock: ManualClock
) -> None:
    wecom = robots.wecom()
    channel_id = await _channel(app, clock, RobotKind.WECOM, wecom)
    wecom.fail_next(93000, "invalid webhook url")
    await _queue(app, clock, [channel_id], 1)
    await app.idle()
    [row] = await _rows(app)
    assert row.status == OutboxStatus.FAILED and row.error is not None
    assert "93000" in row.error and wecom.token not in row.error


async def test_a_wrong_secret_is_a_permanent_signature_failure(
    app: BotApp, robots: RobotServer, clock: ManualClock
) -> None:
    ding = robots.dingtalk()
    ding.secret = "SECsomethingelse"  # the robot's secret changed on the platform
    channel_id = await _channel(app, clock, RobotKind.DINGTALK, robots.dingtalk())
    async with app.sessionmaker() as session:
        channel = await session.get(channels.RobotChannel, channel_id)
        assert channel is not None
        channel.webhook = ding.webhook  # right token, wrong secret
        await session.commit()
    await _queue(app, clock, [channel_id], 1)
    await app.idle()
    [row] = await _rows(app)
    assert row.status == OutboxStatus.FAILED and "310000" in (row.error or "")
    assert ding.bad_signatures == 1


async def test_rate_limited_answer_rests_the_robot_and_delivers_later(
    app: BotApp, robots: RobotServer, clock: ManualClock
) -> None:
    ding = robots.dingtalk()
    channel_id = await _channel(app, clock, RobotKind.DINGTALK, ding)
    ding.fail_next(130101, "send too fast")
    await _queue(app, clock, [channel_id], 1)
    await app.idle()
    [row] = await _rows(app)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    clock.advance(minutes=9)
    await app.idle()
    assert ding.received == []
    clock.advance(minutes=2)
    await app.idle()
    await robots.wait_for(ding, 1)


async def test_transient_error_is_retried(
    app: BotApp, robots: RobotServer, clock: ManualClock
) -> None:
    feishu = robots.feishu()
    channel_id = await _channel(app, clock, RobotKind.FEISHU, feishu)
    feishu.fail_next(-1, "system busy", status=502)
    await _queue(app, clock, [channel_id], 1)
    await app.idle()
    assert feishu.received == []
    clock.advance(seconds=3)
    await app.idle()
    await robots.wait_for(feishu, 1)


@pytest.mark.both_backends
async def test_soak_200_notices_to_3_robots_none_lost_none_twice_none_rate_limited(
    app: BotApp, robots: RobotServer, clock: ManualClock
) -> None:
    fakes = [
        (RobotKind.WECOM, robots.wecom()),
        (RobotKind.DINGTALK, robots.dingtalk()),
        (RobotKind.FEISHU, robots.feishu()),
    ]
    ids = [await _channel(app, clock, kind, robot) for kind, robot in fakes]
    await _queue(app, clock, ids, 200)
    start = clock.now()
    while any(len(robot.received) < 200 for _, robot in fakes):
        await app.idle()
        clock.advance(seconds=1)
        assert clock.now() - start < timedelta(minutes=15), "stalled"
    await app.idle()
    for kind, robot in fakes:
        texts = Counter(str(body) for body in robot.received)
        assert len(robot.received) == 200 and len(texts) == 200, kind
        assert robot.rate_limited == 0 and robot.bad_signatures == 0, kind
    assert {r.status for r in await _rows(app)} == {OutboxStatus.SENT}
    # 200 messages at 19 a minute take a little over ten minutes for WeCom and DingTalk
    assert clock.now() - start < timedelta(minutes=11)


async def test_a_robot_backlog_does_not_hold_up_telegram_messages(
    app: BotApp, robots: RobotServer, tg: FakeTelegram, clock: ManualClock
) -> None:
    wecom = robots.wecom()
    channel_id = await _channel(app, clock, RobotKind.WECOM, wecom)
    await _queue(app, clock, [channel_id], 150)  # more than one batch of the sender
    await robots.wait_for(wecom, 19)
    await app.idle()
    mark = tg.mark()
    async with app.sessionmaker() as session:
        await outbox.enqueue(
            session,
            chat_id=6101,
            kind="user.active_changed",
            params={"who": "测试", "active": True},
            now=clock.now(),
        )
        await session.commit()
    assert app.sender is not None
    app.sender.wake()
    await tg.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 6101, since=mark)
    assert len(wecom.received) == 19, "the robot stays within its limit meanwhile"
