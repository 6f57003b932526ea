"""Content checks on every new post: findings stored, veto alerts at once, the card shows them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.settings import Settings
from models.findings import StoredFinding
from models.outbox import OutboxMessage
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.monitoring import run_jobs
from tests.e2e.test_monitoring import MANAGER, RESPONSIBLE, office
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram

ID_NUMBER = "110101199003071233"
HACKED = (
    "<p>我区2026年第xx季度共接待来访群众xxx人次，办结率100%。</p>"
    f"<p>联系人身份证号：{ID_NUMBER}。</p>"
    '<div style="display:none"><a href="http://bet-365-vip.example.com">澳门葡京赌场官网，注册就送88元</a></div>'
)


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    return make_settings(database_url, tg.base)  # no alert chat: admins hear in private


async def test_hacked_post_is_flagged_on_the_next_poll_with_a_veto_alert_to_the_right_people(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_feed(
        "acct", [FakeItem("区信访局工作动态", "https://example.gov.cn/a/1", "a1", clock.now())]
    )
    _unit, account_id = await office(app, clock, feeds)
    await run_jobs(app, clock)
    async with app.sessionmaker() as session:
        assert list(await session.exec(select(StoredFinding))) == []

    clock.advance(timedelta(hours=7))
    feeds.add_items(
        "acct",
        FakeItem(
            "第三季度信访工作通报", "https://example.gov.cn/a/2", "a2", clock.now(), body=HACKED
        ),
    )
    mark = tg.mark()
    tick, _ = await run_jobs(app, clock)
    assert tick.new_posts == 1

    async with app.sessionmaker() as session:
        stored = list(await session.exec(select(StoredFinding)))
    categories = {f.category for f in stored}
    assert {"gambling", "pii", "placeholder", "hidden_link"} <= categories, [
        (f.category, f.text, f.rule) for f in stored
    ]
    for finding in stored:
        assert finding.post_id is not None and finding.text in finding.excerpt
        stored_values = f"{finding.text} {finding.excerpt} {finding.account_key}"
        assert ID_NUMBER not in stored_values, "personal data is stored only masked"

    for person in (RESPONSIBLE, MANAGER, ADMIN_ID):
        inbox = await tg.user(person, "x").inbox(since=mark, count=1)
        alerts = [c.text for c in inbox if "单项否决问题" in c.text]
        assert len(alerts) == 1, f"{person}: one post, one alert listing its problems"
        assert "涉赌" in alerts[0] and "个人信息" in alerts[0]
        assert all(ID_NUMBER not in a for a in alerts), "personal data is never repeated"
        assert any("11*************233" in a for a in alerts)

    # a re-poll of the same post, or the same spam in another post, raises nothing new
    clock.advance(timedelta(hours=7))
    feeds.add_items(
        "acct", FakeItem("又一篇", "https://example.gov.cn/a/3", "a3", clock.now(), body=HACKED)
    )
    async with app.sessionmaker() as session:
        before = len(
            list(
                await session.exec(
                    select(OutboxMessage).where(OutboxMessage.kind == "finding.veto")
                )
            )
        )
    await run_jobs(app, clock)
    async with app.sessionmaker() as session:
        after = len(
            list(
                await session.exec(
                    select(OutboxMessage).where(OutboxMessage.kind == "finding.veto")
                )
            )
        )
    assert after == before

    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/accounts")
    card = (await admin.press(replies[-1], "某区教育发布"))[-1]
    assert "内容问题：" in card.text and "单项否决" in card.text and "涉赌" in card.text
    assert ID_NUMBER not in card.text
    assert account_id


async def test_clean_posts_raise_no_findings(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_feed(
        "acct",
        [
            FakeItem(
                "区教育局召开招生工作会议",
                "https://example.gov.cn/a/1",
                "a1",
                clock.now(),
                body="<p>会议要求，全面深化改革，切实做好2026年义务教育招生工作。</p>",
            )
        ],
    )
    await office(app, clock, feeds)
    await run_jobs(app, clock)
    async with app.sessionmaker() as session:
        assert list(await session.exec(select(StoredFinding))) == []
    replies = await tg.user(ADMIN_ID, "王主任").send("/accounts")
    card = (await tg.user(ADMIN_ID, "王主任").press(replies[-1], "某区教育发布"))[-1]
    assert "内容问题：未发现" in card.text


async def test_dead_links_in_posts_become_findings_once_per_url(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    from jobs.dead_links import check_dead_links
    from models.links import LinkCheck

    gone = feeds.url("/status/404")
    alive = feeds.feed_url("rss")
    body = f'<p>详见<a href="{gone}">办事指南</a>和<a href="{alive}">订阅</a>。</p>'
    feeds.set_feed(
        "acct",
        [
            FakeItem("通知一", "https://example.gov.cn/a/1", "a1", clock.now(), body=body),
            FakeItem("通知二", "https://example.gov.cn/a/2", "a2", clock.now(), body=body),
        ],
    )
    await office(app, clock, feeds)
    await run_jobs(app, clock)
    job = app.scheduler.get_job("check_dead_links")
    assert job is not None and job.func is check_dead_links

    summary = await check_dead_links(
        sessionmaker=app.sessionmaker, clock=clock, settings=app.settings, http=app.http
    )
    assert (summary.checked, summary.dead, summary.findings) == (2, 1, 1)  # one new problem
    assert len(feeds.requests_to("/status/404")) == 1, "one check per URL, not per post"
    async with app.sessionmaker() as session:
        dead = list(
            await session.exec(select(StoredFinding).where(StoredFinding.category == "dead_link"))
        )
        checks = {c.url: c.state for c in await session.exec(select(LinkCheck))}
    assert {f.text for f in dead} == {"办事指南"} and len(dead) == 2
    assert checks == {gone: "dead", alive: "alive"}

    # within the TTL nothing is fetched again
    again = await check_dead_links(
        sessionmaker=app.sessionmaker, clock=clock, settings=app.settings, http=app.http
    )
    assert again.checked == 0


def test_unreachable_link_counts_as_dead_only_on_the_second_failure() -> None:
    from feeds.fetch import FetchResult
    from feeds.outcome import PollOutcome
    from jobs.dead_links import judge
    from models.links import LinkState

    down = FetchResult(outcome=PollOutcome.NETWORK, url="http://x", final_url="http://x")
    assert judge(down, failures=0) == (LinkState.UNKNOWN, 1)
    assert judge(down, failures=1) == (LinkState.DEAD, 2)
    slow = FetchResult(outcome=PollOutcome.TIMEOUT, url="http://x", final_url="http://x")
    assert judge(slow, failures=1)[0] is LinkState.UNKNOWN
