"""RSSHUB_BASE: registration and the ledger import derive feeds from platform ids."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.settings import Settings
from documents.ledgerbook import ledger_workbook
from models.accounts import Account
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.flows import AccountForm, fill_registration
from tests.e2e.test_ledger import line
from tests.e2e.test_registration import _office
from tests.fakes.feeds import FeedServer
from tests.fakes.telegram import FakeTelegram

UID = "1234567890"
RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>某区教育发布的微博</title><link>https://weibo.com/u/1234567890</link><description>x</description>
<item><title>开学通知</title><link>https://weibo.com/1234567890/A1</link><guid>A1</guid>
<pubDate>Mon, 19 Jan 2026 08:00:00 GMT</pubDate></item></channel></rss>"""


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram, feeds: FeedServer) -> Settings:
    return make_settings(database_url, tg.base, rsshub_base=feeds.base_url, rsshub_key="s3cret")


async def test_registering_a_weibo_account_by_uid_fills_in_and_probes_the_feed(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    feeds.set_response(
        f"/weibo/user/{UID}", body=RSS, headers={"Content-Type": "application/rss+xml"}
    )
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    form = AccountForm(platform="微博", ref=UID, unit="某区教育局", feed_url="")
    replies = await admin.send("/register")
    replies = await admin.press(replies[-1], form.platform)
    await admin.send(form.name)
    await admin.send(form.ref)
    last = tg.sent_to(ADMIN_ID)[-1]
    replies = await admin.press(last, "某区教育局")
    replies = await admin.press(replies[-1], form.responsible)
    await admin.send(form.per_week)
    await admin.send(form.necessity)
    replies = await admin.send(form.plan)
    prompt = replies[-1]
    assert f"/weibo/user/{UID}" in prompt.text and "s3cret" not in prompt.text
    replies = await admin.press(prompt, "✅ 使用此地址")
    summary = replies[-1]
    assert "订阅源检查通过" in summary.text and "某区教育发布的微博" in summary.text
    [probe] = feeds.requests_to(f"/weibo/user/{UID}")
    assert probe.query == "key=s3cret"
    replies = await admin.press(summary, "确认提交")
    async with app.sessionmaker() as session:
        [account] = list(await session.exec(select(Account)))
    assert account.feed_url == f"{feeds.base_url}/weibo/user/{UID}?key=s3cret"


async def test_a_manual_feed_url_still_wins(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    await _office(app, clock)
    url = feeds.set_feed("own", [])
    admin = tg.user(ADMIN_ID, "王主任")
    summary = await fill_registration(
        admin, AccountForm(platform="微博", ref=UID, unit="某区教育局", feed_url=url)
    )
    assert "订阅源检查通过" in summary.text


async def test_a_ledger_import_of_200_accounts_by_platform_id_derives_their_feeds(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    rows = (
        [
            line(f"第{i}街道办", "微博", f"教育微博{i}", str(1_000_000_000 + i), "李老师")
            for i in range(150)
        ]
        + [
            line(
                f"第{i}街道办",
                "B站",
                f"教育B站{i}",
                f"https://space.bilibili.com/{5000 + i}",
                "李老师",
            )
            for i in range(40)
        ]
        + [
            line(f"第{i}街道办", "微信公众号", f"教育公众号{i}", f"jy_{i}", "李老师")
            for i in range(10)
        ]
    )
    replies = await admin.send_document(ledger_workbook(rows), "台账.xlsx")
    reply = "\n".join(r.text for r in replies)
    assert "新增账号 200 个" in reply, reply
    async with app.sessionmaker() as session:
        accounts = {a.name: a for a in await session.exec(select(Account))}
    assert accounts["教育微博7"].feed_url == f"{feeds.base_url}/weibo/user/1000000007?key=s3cret"
    assert accounts["教育B站3"].feed_url == f"{feeds.base_url}/bilibili/user/video/5003?key=s3cret"
    assert accounts["教育公众号1"].feed_url is None, "no route: the admin is asked later"
    assert sum(1 for a in accounts.values() if a.feed_url) == 190
