"""Repost tasks (转载任务) end to end: an admin forwards the article to the bot and assigns it to
20 accounts in 3 units; the feed farm publishes reposts with changed titles, one with only the
link, one with only the title and an unrelated post with a similar title; the card counts 17
done and 3 pending; the responsible people of the 3 are reminded; after the deadline the daily
digest and /report list them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from governance.reposts import MatchMethod, TargetStatus
from governance.roles import Role
from jobs.digest import daily_digest
from jobs.reposts import repost_reminders
from models.audit import AuditEntry
from models.reposts import RepostTarget, RepostTask
from tests.conftest import ADMIN_ID
from tests.e2e.monitoring import run_jobs
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.e2e.test_cases import drained, received
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import FakeTelegram

TITLE = "关于开展2026年安全生产月活动的通知"
TEXT = (
    "为深入贯彻落实安全生产工作部署，进一步强化全民安全意识，经研究决定，"
    "于2026年6月在全区范围内开展安全生产月活动。各单位要结合实际，制定具体方案，"
    "广泛开展宣传教育、隐患排查和应急演练，确保活动取得实效。"
)
WX = "https://mp.weixin.qq.com/s?__biz=MzA5NjYxMjA0MA==&mid=2650&idx=2&sn=9f1c#rd"
UNITS = (("区教育局", 7), ("某街道办", 7), ("区卫健委", 6))
RESPONSIBLE = 7000  # the responsible person of account i is 7000 + i
#: How the 15 ordinary reposts change the title; the body is the text under a source line on
#: every other one, nothing on the rest (a headline repost, which this task accepts).
CHANGED_TITLES = (
    "【转载】" + TITLE,
    "转自市应急管理局：" + TITLE,
    TITLE + " | 来源：市应急管理局",
    "重磅！2026年安全生产月活动通知来了",
    "2026年安全生产月活动的通知",
    "开展2026年安全生产月活动",
    "【转发】关于开展安全生产月活动的通知",
)
LINK_ONLY, TITLE_ONLY, LOOKALIKE = 15, 16, 17  # 18 and 19 post nothing
LOOKALIKE_TITLE = "关于开展2026年防汛安全月活动的通知"
LOOKALIKE_TEXT = (
    "为做好汛期防汛工作，全区各街道要加强巡查值守，落实防汛物资储备，"
    "及时转移危险区域群众，确保人民群众生命财产安全，各部门要密切配合。"
)


async def _region(app, clock, feeds: FeedServer) -> list[int]:  # type: ignore[no-untyped-def]
    """Three units, 20 accounts each with its own responsible person and feed."""
    now, accounts, i = clock.now(), [], 0
    for unit_name, count in UNITS:
        unit = await seed_unit(app.sessionmaker, unit_name, now)
        for _n in range(count):
            person = await seed_person(
                app.sessionmaker,
                telegram_id=RESPONSIBLE + i,
                name=f"责任人{i}",
                unit_id=unit,
                roles=(Role.EDITOR,),
                now=now,
            )
            feeds.set_feed(
                f"a{i}",
                [
                    FakeItem(
                        "旧文章", f"https://example.gov.cn/{i}/0", f"{i}-0", now - timedelta(days=5)
                    )
                ],
            )
            accounts.append(
                await seed_account(
                    app.sessionmaker,
                    admin_telegram_id=ADMIN_ID,
                    unit_id=unit,
                    responsible_id=person,
                    name=f"{unit_name}发布{i}",
                    feed_url=feeds.feed_url(f"a{i}"),
                    now=now,
                )
            )
            i += 1
    return accounts


def _publish(feeds: FeedServer, i: int, clock) -> None:  # type: ignore[no-untyped-def]
    own = f"https://example.gov.cn/{i}/1"
    when = clock.now()
    if i < LINK_ONLY:
        body = f"<p>来源：市应急管理局</p><p>{TEXT}</p>" if i % 2 == 0 else ""
        item = FakeItem(CHANGED_TITLES[i % len(CHANGED_TITLES)], own, f"{i}-1", when, body=body)
    elif i == LINK_ONLY:
        shared = WX.replace("#rd", "&utm_source=weibo&share_token=abc#wechat_redirect")
        item = FakeItem("转发", own, f"{i}-1", when, body=f"<p>请大家关注：{shared}</p>")
    elif i == TITLE_ONLY:
        item = FakeItem(TITLE, own, f"{i}-1", when)
    elif i == LOOKALIKE:
        item = FakeItem(LOOKALIKE_TITLE, own, f"{i}-1", when, body=f"<p>{LOOKALIKE_TEXT}</p>")
    else:
        return
    feeds.add_items(f"a{i}", item)


@pytest.mark.both_backends
async def test_repost_task_from_forward_to_overdue_report(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    accounts = await _region(app, clock, feeds)
    await run_jobs(app, clock)  # the first poll imports each archive
    await drained(app, tg)

    admin = tg.user(ADMIN_ID, "王主任")
    listing = (await admin.send("/tasks"))[-1]
    assert "还没有转载任务" in listing.text
    ask = (await admin.press(listing, "➕ 新建转载任务"))[-1]
    assert "转发给我" in ask.text
    origin = {"type": "hidden_user", "sender_user_name": "市政府办", "date": 1_700_000_000}
    scope = (await admin.send(f"{TITLE}\n{TEXT}\n原文：{WX}", forward_origin=origin))[-1]
    assert "范围" in scope.text
    pick = (await admin.press(scope, "按单位"))[-1]
    for unit_name, _count in UNITS:
        await admin.press(pick, unit_name)
    deadline_ask = (await admin.press(pick, "选好了"))[-1]
    headline_ask = (await admin.press(deadline_ask, "3 天后"))[-1]
    summary = (await admin.press(headline_ask, "计为完成"))[-1]
    assert "账号：20 个，分属 3 个单位" in summary.text
    assert "截止时间：2026-01-08 18:00" in summary.text
    mark = tg.mark()
    replies = await admin.press(summary, "✅ 确认发布")
    assert any("已发布转载任务 #1，共 20 个账号" in c.text for c in replies)
    told = await received(tg, RESPONSIBLE + 3, "新的转载任务", since=mark)
    assert TITLE in told.text and "截止时间：2026-01-08 18:00" in told.text
    await drained(app, tg)

    clock.advance(hours=7)  # the next poll: the farm has published
    for i in range(len(accounts)):
        _publish(feeds, i, clock)
    await run_jobs(app, clock)

    async with app.sessionmaker() as session:
        task = (await session.exec(select(RepostTask))).one()
        targets = {
            t.account_id: t
            for t in await session.exec(select(RepostTarget).order_by(col(RepostTarget.id)))
        }
        matched = list(
            await session.exec(
                select(AuditEntry).where(AuditEntry.action == "repost_target.matched")
            )
        )
    done = {a for a, t in targets.items() if t.status is TargetStatus.DONE}
    assert done == set(accounts[:LOOKALIKE]), "17 reposts, not the lookalike nor the silent"
    assert targets[accounts[LINK_ONLY]].method is MatchMethod.LINK
    assert targets[accounts[TITLE_ONLY]].method is MatchMethod.HEADLINE
    assert targets[accounts[0]].method is MatchMethod.TEXT
    assert all(t.post_id and t.matched_at == clock.now() for t in targets.values() if t.post_id)
    assert len(matched) == 17

    card_list = (await admin.send("/tasks"))[-1]
    card = (await admin.press(card_list, f"#1 {TITLE}"[:32]))[-1]
    assert "已转载 17，待转载 3，逾期未转载 0（共 20 个账号）" in card.text
    assert "区卫健委：已转载 3/6" in card.text
    assert "下一页 ▶" in [b["text"] for b in card.buttons]  # 20 accounts: two pages

    pending_people = [RESPONSIBLE + i for i in (LOOKALIKE, 18, 19)]
    clock.set(task.deadline - timedelta(hours=23))
    mark = tg.mark()
    assert (
        await repost_reminders(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings)
        == 3
    )
    app.sender.wake()
    for chat in pending_people:
        reminder = await received(tg, chat, "即将截止", since=mark)
        assert TITLE in reminder.text
    await drained(app, tg)
    assert not [c for c in tg.sent_to(RESPONSIBLE, since=mark) if "截止" in c.text]
    assert (
        await repost_reminders(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings)
        == 0
    )

    clock.set(task.deadline + timedelta(hours=15))  # 09:00 the next morning
    mark = tg.mark()
    assert (
        await repost_reminders(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings)
        == 3
    )
    await daily_digest(sessionmaker=app.sessionmaker, clock=clock, settings=app.settings)
    app.sender.wake()
    await received(tg, RESPONSIBLE + 18, "已到截止时间", since=mark)
    digest = await received(tg, ADMIN_ID, "每日通报", since=mark)
    assert f"转载任务 #1《{TITLE}》逾期未转载 3 个" in digest.text
    assert "区卫健委发布17" in digest.text and "区卫健委发布19" in digest.text
    await drained(app, tg)

    menu = (await admin.send("/report"))[-1]
    scope_ask = (await admin.press(menu, "本月"))[-1]
    mark = tg.mark()
    await admin.press(scope_ask, "全部单位")
    summary_call = await received(tg, ADMIN_ID, "时段：", since=mark)
    assert f"转载任务 #1《{TITLE}》逾期未转载 3 个" in summary_call.text
    document = await tg.wait_for(
        lambda c: c.method == "sendDocument" and c.chat_id == ADMIN_ID, since=mark
    )
    book = load_workbook(io.BytesIO(document.document))
    assert "转载任务" in book.sheetnames
    rows = [[c.value for c in row] for row in book["转载任务"].iter_rows()]
    units = {r[0]: (r[2], r[3], r[4], r[5]) for r in rows[2:5]}
    assert units == {
        "区卫健委": (6, 3, 3, "50%"),
        "区教育局": (7, 7, 0, "100%"),
        "某街道办": (7, 7, 0, "100%"),
    }
    overdue = [r for r in rows if r[5] == "逾期未转载"]
    assert [r[4] for r in overdue] == [
        f"#{accounts[i]} 区卫健委发布{i}" for i in (LOOKALIKE, 18, 19)
    ]
    await tg.settle()
