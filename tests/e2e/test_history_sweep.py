"""The history sweep: a word added in /words reaches posts stored before it, a removed word's
findings are withdrawn, a restarted bot resumes the walk, and nothing is alerted twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from jobs.history_sweep import sweep_history
from models.findings import FindingStatus, StoredFinding
from models.outbox import OutboxMessage
from models.posts import Post
from models.sweeps import HistorySweep
from tests.conftest import ADMIN_ID
from tests.e2e.monitoring import drain_outbox, run_jobs
from tests.e2e.test_monitoring import RESPONSIBLE, office
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram
from workflows.checker import LiveChecker

WORD = "滨江夜游"


async def _sweep(app, clock, *, live: LiveChecker | None = None, max_batches: int | None = None):
    return await sweep_history(
        sessionmaker=app.sessionmaker,
        clock=clock,
        live=live or app.live_checker,
        settings=app.settings,
        batch=1,
        max_batches=max_batches,
    )


async def _findings(app) -> list[StoredFinding]:
    async with app.sessionmaker() as session:
        rows = await session.exec(
            select(StoredFinding).where(col(StoredFinding.rule) == "gambling.custom")
        )
        return list(rows)


async def _alerts(app) -> int:
    """Veto alerts queued, one per post (each to every recipient: counted once)."""
    async with app.sessionmaker() as session:
        rows = await session.exec(
            select(OutboxMessage.dedup_key).where(col(OutboxMessage.dedup_key).like("finding:%"))
        )
        return len({str(key).split(":")[1] for key in rows})


async def _overview(admin) -> str:
    """The /words overview (alerts to the admin may arrive in between)."""
    return next(c.text for c in reversed(await admin.send("/words")) if "错敏词库" in c.text)


@pytest.mark.both_backends
async def test_sweep_flags_old_posts_resumes_and_withdraws(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    now = clock.now()
    feeds.set_feed(
        "acct",
        [
            FakeItem("区文旅动态", "https://example.gov.cn/a/1", "a1", now, body="欢迎市民参加。"),
            FakeItem(
                "夏季活动", "https://example.gov.cn/a/2", "a2", now, body=f"本周推出{WORD}项目。"
            ),
            FakeItem(f"{WORD}开放", "https://example.gov.cn/a/3", "a3", now, body="详见通知。"),
            FakeItem("其他", "https://example.gov.cn/a/4", "a4", now, body="无关内容。"),
        ],
    )
    await office(app, clock, feeds)
    await run_jobs(app, clock)
    async with app.sessionmaker() as session:
        stored = list(await session.exec(select(Post).order_by(col(Post.id))))
        assert len(stored) == 4
        # the title-only post's body has expired: the sweep checks its title alone
        await session.exec(
            sa.update(Post).where(col(Post.identity) == "a3").values(body=None)  # type: ignore[arg-type]
        )
        await session.commit()
    assert (await _sweep(app, clock)).started is False, "the first run records the baseline"

    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/words")
    replies = await admin.press(replies[-1], "错敏词")
    replies = await admin.press(replies[-1], "涉赌")
    replies = await admin.send(WORD)
    assert "已添加 1 条" in replies[-1].text
    assert "一分钟内开始复查" in await _overview(admin)

    # one batch (one post), then the bot restarts: a new checker, the walk resumes
    first = await _sweep(app, clock, max_batches=2)
    assert first.started and first.posts == 2 and not first.finished
    assert "进行中 2/4" in await _overview(admin)
    restarted = LiveChecker()
    clock.advance(timedelta(minutes=1))
    rest = await _sweep(app, clock, live=restarted)
    assert not rest.started and rest.finished and rest.posts == 2, rest

    found = await _findings(app)
    assert sorted(f.text for f in found) == [WORD, WORD]
    assert all(f.status is FindingStatus.OPEN for f in found)
    assert await _alerts(app) == 1, "one alert for the defect new to the account"
    await drain_outbox(app)
    inbox = await tg.user(RESPONSIBLE, "x").inbox(count=1)
    assert any(WORD in c.text for c in inbox)
    overview = await _overview(admin)
    assert "完成于" in overview and "新发现 2 处" in overview

    # nothing changed: nothing swept, nothing queued again
    again = await _sweep(app, clock)
    assert again.posts == 0 and await _alerts(app) == 1

    # the word goes: its findings are withdrawn (only the posts citing it are revisited)
    replies = await admin.send("/words")
    replies = await admin.press(replies[-1], "查看/删除")
    await admin.press(replies[-1], "删除 #")
    removal = await _sweep(app, clock)
    assert removal.finished and removal.posts == 2 and removal.withdrawn == 2, removal
    assert {f.status for f in await _findings(app)} == {FindingStatus.WITHDRAWN}
    async with app.sessionmaker() as session:
        sweep = await session.get(HistorySweep, 1)
        assert sweep is not None and sweep.findings_only and sweep.total == 2

    # put back: reopened, not alerted again
    replies = await admin.send("/words")
    replies = await admin.press(replies[-1], "错敏词")
    replies = await admin.press(replies[-1], "涉赌")
    await admin.send(WORD)
    back = await _sweep(app, clock)
    assert back.finished and back.found == 0
    assert {f.status for f in await _findings(app)} == {FindingStatus.OPEN}
    assert await _alerts(app) == 1
