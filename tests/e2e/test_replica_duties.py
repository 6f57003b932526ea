"""A chat replica and a jobs replica on one PostgreSQL (REPLICA_DUTIES): the jobs replica polls,
checks and alerts without ever asking Telegram for updates, the chat replica answers people and
runs none of the heavy jobs; SQLite refuses the split with a clear message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.app import BotApp
from bot.scheduler import CHAT_JOBS
from bot.settings import ReplicaDuties
from governance.clock import ManualClock
from tests.conftest import ADMIN_ID, make_settings, start_bot
from tests.e2e.test_monitoring import office
from tests.e2e.test_quality_alerts import HACKED
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram


async def _run_scheduled(app: BotApp, job_id: str) -> Any:
    """Run one occurrence of a job exactly as this replica's scheduler registered it."""
    assert app.scheduler is not None
    job = app.scheduler.get_job(job_id)
    assert job is not None, f"{job_id} is not scheduled on this replica"
    return await job.func(*job.args, **job.kwargs)


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_a_jobs_replica_polls_and_alerts_while_a_chat_replica_answers(
    database_url: str, tg: FakeTelegram, feeds: FeedServer, clock: ManualClock
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas that split the work share PostgreSQL")
    jobs = BotApp(
        make_settings(database_url, tg.base, replica_duties="jobs"), clock=clock, migrate=False
    )
    await jobs.start()
    chat = await start_bot(tg, make_settings(database_url, tg.base, replica_duties="chat"), clock)
    try:
        assert chat.scheduler is not None and jobs.scheduler is not None
        assert {j.id for j in chat.scheduler.get_jobs()} == CHAT_JOBS
        assert {"poll_feeds", "evaluate_accounts", "daily_digest"} <= {
            j.id for j in jobs.scheduler.get_jobs()
        }
        assert jobs.role == "jobs"  # the chat replica becomes the polling leader

        feeds.set_feed(
            "acct", [FakeItem("区信访局工作动态", "https://example.gov.cn/a/1", "a1", clock.now())]
        )
        await office(chat, clock, feeds)  # people and the account, registered in chat
        first = await _run_scheduled(jobs, "poll_feeds")
        assert first.polled == 1

        clock.advance(timedelta(hours=7))
        feeds.add_items(
            "acct",
            FakeItem(
                "第三季度信访工作通报", "https://example.gov.cn/a/2", "a2", clock.now(), body=HACKED
            ),
        )
        mark = tg.mark()
        tick = await _run_scheduled(jobs, "poll_feeds")
        assert tick.new_posts == 1
        admin = tg.user(ADMIN_ID, "王主任")
        alerts = [c.text for c in await admin.inbox(since=mark, count=1)]
        assert any("单项否决问题" in a and "涉赌" in a for a in alerts)

        replies = await admin.send("/accounts")  # answered by the chat replica, meanwhile
        assert "某区教育发布" in str(replies[-1].buttons)
        assert tg.conflicts == 0  # one getUpdates at a time: the jobs replica never polled
    finally:
        await chat.stop()
        await jobs.stop()


@pytest.mark.parametrize("duties", [ReplicaDuties.CHAT, ReplicaDuties.JOBS])
def test_splitting_the_work_on_sqlite_is_refused_with_a_clear_message(
    duties: ReplicaDuties, tmp_path: Any
) -> None:
    with pytest.raises(ValidationError, match="需要 PostgreSQL"):
        make_settings(
            f"sqlite+aiosqlite:///{tmp_path}/bot.db", "http://127.0.0.1:1", replica_duties=duties
        )
