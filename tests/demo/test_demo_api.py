"""The demo's page API without a browser: a persona writes, presses and uploads; the real bot
answers through the embedded Bot API and the answers arrive on the page's live stream."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.demo.run import LOOPBACK, Demo, DemoOptions
from bot.demo.scenario import ACCOUNTS, ALERT_CHAT_ID, PERSONA_BY_KEY
from feeds.netguard import URLRefused, check_url
from governance.errors import ConfigurationError
from models.accounts import Account
from tests.demo.conftest import Events, bot_message

ADMIN = PERSONA_BY_KEY["admin"].telegram_id
FIRST = PERSONA_BY_KEY["first"].telegram_id
SECOND = PERSONA_BY_KEY["second"].telegram_id
EDITOR = PERSONA_BY_KEY["editor"].telegram_id


def is_card(message: dict[str, Any]) -> bool:
    return "SH-" in message["text"] and bool(message["inline_keyboard"])


async def review_card(http: aiohttp.ClientSession, events: Events, chat: int) -> dict[str, Any]:
    """A review card in ``chat``: already there, or the next to arrive (the outbox paces)."""
    mark = len(events.seen)
    history = await (await http.get(f"/api/chats/{chat}")).json()
    for message in history["messages"]:
        if is_card(message):
            return dict(message)
    event = await events.wait_for(
        lambda e: bot_message(chat, "SH-")(e) and is_card(e["message"]), since=mark
    )
    return dict(event["message"])


async def test_personas_chat_press_upload_and_move_the_clock_over_the_page_api(demo: Demo) -> None:
    async with aiohttp.ClientSession(base_url=demo.url) as http:
        page = await (await http.get("/")).text()
        match = re.search(r'name="demo-token" content="([^"]+)"', page)
        assert match is not None
        headers = {"X-Demo-Token": match.group(1)}
        state = await (await http.get("/api/state")).json()
        roles = [p["role"] for p in state["personas"]]
        assert roles == ["管理员", "单位管理员", "初审", "复审", "终审", "编辑", "待加入"]
        assert [g["id"] for g in state["groups"]] == [ALERT_CHAT_ID]

        events = Events()
        stream = await http.get("/api/events")
        reader = asyncio.create_task(events.read(stream))
        try:
            await events.wait_for(lambda e: e["type"] == "clock")
            start = {"persona": ADMIN, "chat": ADMIN, "text": "/start"}
            forged = await http.post("/api/send", json=start)  # another site cannot post
            assert forged.status == 403
            mark = len(events.seen)
            assert (await http.post("/api/send", json=start, headers=headers)).status == 200
            tour = await events.wait_for(bot_message(ADMIN, "演示导览", "/register"), since=mark)
            assert "<b>演示导览</b>" in tour["message"]["html"]  # Telegram's HTML, kept safe
            mark = len(events.seen)
            start_editor = {"persona": EDITOR, "chat": EDITOR, "text": "/start"}
            assert (await http.post("/api/send", json=start_editor, headers=headers)).ok
            await events.wait_for(bot_message(EDITOR, "演示导览", "/submit"), since=mark)

            # the first approver approves a seeded draft from the card's button
            card = await review_card(http, events, FIRST)
            number = re.search(r"SH-\d{4}-\d{4}", card["text"])
            assert number is not None
            approve = next(
                b for row in card["inline_keyboard"] for b in row if b["text"] == "✅ 通过"
            )
            mark = len(events.seen)
            press = {
                "persona": FIRST,
                "chat": FIRST,
                "message_id": card["message_id"],
                "data": approve["callback_data"],
            }
            assert (await http.post("/api/press", json=press, headers=headers)).status == 200
            await events.wait_for(bot_message(SECOND, number.group(0), "复审"), since=mark)
            stranger = {**press, "persona": SECOND}  # not in that chat: refused, nothing queued
            assert (await http.post("/api/press", json=stranger, headers=headers)).status == 400

            # an upload reaches the bot as a document message (outside a dialog: it says so)
            form = aiohttp.FormData()
            form.add_field("persona", str(EDITOR))
            form.add_field("chat", str(EDITOR))
            form.add_field("file", b"%PDF-1.4 demo", filename="方案.pdf")
            mark = len(events.seen)
            assert (await http.post("/api/upload", data=form, headers=headers)).status == 200
            sent = await events.wait_for(
                lambda e: e["type"] == "message" and e["message"]["kind"] == "document",
                since=mark,
            )
            download = await http.get(f"/files/{sent['message']['file']['id']}?download=1")
            assert await download.read() == b"%PDF-1.4 demo"
            assert "attachment" in download.headers["Content-Disposition"]
            await events.wait_for(lambda e: bot_message(EDITOR)(e), since=mark)

            # a day passes: 教育发布 crosses two weeks without a post, the alert chat hears it
            mark = len(events.seen)
            jump = await http.post("/api/clock", json={"days": 1}, headers=headers)
            assert jump.status == 200
            alert = await events.wait_for(
                bot_message(ALERT_CHAT_ID, "教育发布", "僵尸号"), since=mark
            )
            assert "两周未更新" in alert["message"]["text"]
        finally:
            reader.cancel()
            stream.close()


async def test_the_demo_reaches_nothing_beyond_loopback(demo: Demo) -> None:
    assert demo.app is not None
    settings = demo.app.settings
    assert settings.telegram_api_base == demo.url and demo.url.startswith(f"http://{LOOPBACK}:")
    policy = demo.app.guard_policy()
    assert policy.only_allowed and policy.allowed_hosts == frozenset({LOOPBACK})
    for outside in ("https://rsshub.app/weibo/user/1", "http://10.0.0.8/feed", "http://8.8.8.8/"):
        try:
            check_url(outside, policy=policy)
        except URLRefused as exc:
            assert exc.kind == "forbidden"
        else:
            raise AssertionError(f"{outside} would be fetched")
    assert check_url(f"{demo.url}/farm/gov-wx.xml", policy=policy).port == demo.port
    assert demo.runner is not None
    assert {address[0] for address in demo.runner.addresses} == {LOOPBACK}
    async with aiohttp.ClientSession() as http:
        rebinding = await http.get(f"{demo.url}/api/state", headers={"Host": "evil.example"})
        assert rebinding.status == 403


async def test_a_second_run_continues_where_the_first_stopped(tmp_path: Path) -> None:
    options = DemoOptions(directory=tmp_path / "demo", port=0, open_browser=False)
    async with Demo(options) as first:
        assert first.api is not None
        events = first.api.listen()
        await asyncio.wait_for(first.ready.wait(), 60)
        while not first.api.chats[FIRST].messages:  # a card the pacer held for a second
            await asyncio.wait_for(events.get(), 60)
        seen = len(first.api.chats[FIRST].messages)
        jumped = await first.advance(timedelta(hours=5))
        with pytest.raises(ConfigurationError, match="正被另一个演示进程使用"):
            await Demo(options).start()  # a second demo on the same directory touches nothing
    async with Demo(options) as second:
        assert second.clock is not None and second.api is not None and second.app is not None
        assert second.clock.now() >= jumped  # the demo's time went on from where it was
        assert len(second.api.chats[FIRST].messages) >= seen > 0
        assert second.app.sessionmaker is not None
        async with second.app.sessionmaker() as session:
            urls = list(await session.exec(select(Account.feed_url)))
        assert len(urls) == len(ACCOUNTS)  # seeded once
        assert all(str(url).startswith(f"{second.url}/farm/") for url in urls)  # new port
