"""The registration form (开设备案): validation, cancel, feed check, duplicates, restarts."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import BotApp
from governance.roles import Role
from models.accounts import Account
from tests.conftest import ADMIN_ID, start_bot
from tests.e2e.flows import AccountForm, fill_registration
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.feeds import FeedServer
from tests.fakes.telegram import FakeTelegram


async def _office(app: BotApp, clock) -> tuple[int, int]:
    unit = await seed_unit(app.sessionmaker, "某区教育局", clock.now())
    teacher = await seed_person(
        app.sessionmaker,
        telegram_id=2002,
        name="李老师",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    return unit, teacher


async def _accounts(app: BotApp) -> list[Account]:
    async with app.sessionmaker() as session:
        return list(await session.exec(select(Account)))


async def test_admin_registration_is_active_at_once_and_responsible_is_told(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    summary = await fill_registration(admin, AccountForm(unit="某区教育局"))
    mark = tg.mark()
    replies = await admin.press(summary, "确认提交")
    assert "状态：在用" in replies[-1].text
    told = await tg.user(2002, "李老师").inbox(since=mark)
    assert "你已被指定为账号“某区教育发布”" in told[-1].text
    [account] = await _accounts(app)
    assert account.status == "active"


async def test_invalid_inputs_are_explained_and_the_step_is_kept(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/register")
    await admin.press(replies[-1], "微博")
    assert "至少需要 2 个字" in (await admin.send("A"))[-1].text
    assert "最多 60 个字" in (await admin.send("很" * 61))[-1].text
    assert "平台账号ID" in (await admin.send("区教育发布"))[-1].text
    assert "只支持 http:// 或 https://" in (await admin.send("ftp://example.com/x"))[-1].text
    replies = await admin.send("https://weibo.com/u/123")
    replies = await admin.press(replies[-1], "某区教育局")
    replies = await admin.press(replies[-1], "李老师")
    assert "整数" in (await admin.send("三条"))[-1].text
    assert "至少承诺发布 1 条" in (await admin.send("0"))[-1].text
    await admin.send("2")
    assert "至少需要 10 个字" in (await admin.send("需要"))[-1].text
    photo = [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]
    replies = await admin.send(None, photo=photo)
    assert "请按提示发送文字" in replies[-1].text
    assert await _accounts(app) == []


async def test_cancel_leaves_the_form_from_any_step_and_saves_nothing(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/register")
    await admin.press(replies[-1], "抖音")
    await admin.send("某区教育发布")
    assert "已取消" in (await admin.send("/cancel"))[-1].text
    # after cancelling, text is no longer taken as a form answer
    assert "没有进行中的操作" in (await admin.send("douyin_123"))[-1].text
    assert "当前没有进行中的操作" in (await admin.send("/cancel"))[-1].text
    # the summary's own cancel button works too
    summary = await fill_registration(admin, AccountForm(unit="某区教育局"))
    replies = await admin.press(summary, "取消登记")
    assert "登记已取消" in replies[-1].text
    assert await _accounts(app) == []


async def test_feed_check_failure_says_why_and_offers_retry_or_skip(
    app, tg: FakeTelegram, clock, feeds: FeedServer
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    form = AccountForm(unit="某区教育局")
    replies = await admin.send("/register")
    await admin.press(replies[-1], form.platform)
    await admin.send(form.name)
    replies = await admin.send(form.ref)
    replies = await admin.press(replies[-1], "某区教育局")
    await admin.press(replies[-1], "李老师")
    await admin.send("3")
    await admin.send(form.necessity)
    await admin.send(form.plan)
    replies = await admin.send(feeds.url("/status/404"))
    assert "订阅源检查未通过" in replies[-1].text and "404" in replies[-1].text
    replies = await admin.send(
        feeds.url("/pages/not-a-feed")
        if False
        else feeds.set_response(
            "/html", body="<html><body>hello</body></html>", headers={"Content-Type": "text/html"}
        )
    )
    assert "订阅源检查未通过" in replies[-1].text
    assert {"重新输入", "暂不填写"} <= {b["text"] for b in replies[-1].buttons}
    replies = await admin.send(feeds.feed_url("atom"))
    assert "订阅源检查通过" in replies[-1].text
    await admin.press(replies[-1], "确认提交")
    [account] = await _accounts(app)
    assert account.feed_url == feeds.feed_url("atom")


async def test_feed_urls_on_private_addresses_are_refused_without_connecting(
    database_url, tg: FakeTelegram, clock
) -> None:
    from tests.conftest import make_settings

    settings = make_settings(database_url, tg.base, allow_private_feeds=False)
    app = await start_bot(tg, settings, clock)
    try:
        await _office(app, clock)
        admin = tg.user(ADMIN_ID, "王主任")
        summary = await fill_registration(admin, AccountForm(unit="某区教育局"))
        await admin.press(summary, "修改")
        replies = await admin.press(tg.sent_to(ADMIN_ID)[-1], "订阅源")
        replies = await admin.send("http://127.0.0.1:9/feed.xml")
        assert "订阅源检查未通过" in replies[-1].text
        assert (
            "内网" in replies[-1].text or "不允许" in replies[-1].text or "禁止" in replies[-1].text
        )
    finally:
        await app.stop()


@pytest.mark.both_backends
async def test_second_account_on_same_platform_needs_a_reason_and_same_id_is_refused(
    app, tg: FakeTelegram, clock
) -> None:
    unit, teacher = await _office(app, clock)
    await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=teacher,
        name="教育局微博",
        platform="weibo",
        ref="https://weibo.com/u/1001",
        now=clock.now(),
    )
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/register")
    await admin.press(replies[-1], "微博")
    await admin.send("教育局第二微博")
    replies = await admin.send("http://www.weibo.com/u/1001/")
    assert "同一平台账号不能重复登记" in replies[-1].text
    replies = await admin.send("https://weibo.com/u/2002")
    replies = await admin.press(replies[-1], "某区教育局")
    assert "请说明再开设的理由" in replies[-1].text and "教育局微博" in replies[-1].text
    replies = await admin.send("面向青少年的普法专栏，受众与主账号不同。")
    assert "责任人" in replies[-1].text
    await admin.press(replies[-1], "李老师")
    await admin.send("2")
    await admin.send(AccountForm().necessity)
    replies = await admin.send(AccountForm().plan)
    replies = await admin.press(replies[-1], "暂不填写")
    assert "同平台多账号理由：面向青少年的普法专栏" in replies[-1].text
    await admin.press(replies[-1], "确认提交")
    assert len(await _accounts(app)) == 2


async def test_edit_from_summary_changes_one_field_and_returns_to_summary(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    summary = await fill_registration(admin, AccountForm(unit="某区教育局"))
    replies = await admin.press(summary, "修改")
    replies = await admin.press(replies[-1], "承诺更新频率")
    replies = await admin.send("5")
    assert "请核对登记信息" in replies[-1].text and "每周 5 条" in replies[-1].text
    await admin.press(replies[-1], "确认提交")
    [account] = await _accounts(app)
    assert account.posts_per_week == 5


@pytest.mark.both_backends
async def test_double_press_on_confirm_files_the_account_once(app, tg: FakeTelegram, clock) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    summary = await fill_registration(admin, AccountForm(unit="某区教育局"))
    data = summary.button("确认提交")["callback_data"]
    mark = tg.mark()
    # two presses queued back to back, handled concurrently by the dispatcher
    for _ in range(2):
        tg.queue(
            {
                "callback_query": {
                    "id": f"dbl{_}",
                    "from": admin.tg_user,
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": summary.message_id,
                        "date": 1,
                        "chat": {"id": ADMIN_ID, "type": "private"},
                        "text": "x",
                    },
                }
            }
        )
    for qid in ("dbl0", "dbl1"):
        await tg.wait_for(
            lambda c, q=qid: (
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == q
            ),
            since=mark,
        )
    assert len(await _accounts(app)) == 1


async def test_form_survives_a_restart_in_the_middle(database_url, tg: FakeTelegram, clock) -> None:
    from tests.conftest import make_settings

    settings = make_settings(database_url, tg.base)
    first = await start_bot(tg, settings, clock)
    await _office(first, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/register")
    await admin.press(replies[-1], "快手")
    await admin.send("某区教育快手号")
    await first.stop()

    second = await start_bot(tg, settings, clock)
    try:
        replies = await admin.send("ks_jiaoyu")  # answered as the platform-id step
        assert "所属单位" in replies[-1].text
        replies = await admin.press(replies[-1], "某区教育局")
        await admin.press(replies[-1], "李老师")
        await admin.send("2")
        await admin.send(AccountForm().necessity)
        replies = await admin.send(AccountForm().plan)
        replies = await admin.press(replies[-1], "暂不填写")
        assert "某区教育快手号" in replies[-1].text
        await admin.press(replies[-1], "确认提交")
        [account] = await _accounts(second)
        assert (account.name, account.platform_ref) == ("某区教育快手号", "ks_jiaoyu")
    finally:
        await second.stop()
