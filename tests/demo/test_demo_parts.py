"""The demo's pure parts: the scaled clock, the farm's feeds, Telegram's HTML on the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.demo.botapi import BotApiCore
from bot.demo.chats import Person
from bot.demo.farm import FeedProfile
from bot.demo.html import telegram_html
from bot.demo.scenario import ACCOUNTS, PERSONAS, history_start, profiles
from governance.clock import ScaledClock
from governance.roles import Role

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_scaled_clock_runs_fast_and_jumps_forward_only() -> None:
    real = [100.0]
    clock = ScaledClock(start=START, speed=1440, monotonic=lambda: real[0])
    real[0] += 60  # a real minute is a demo day
    assert clock.now() == START + timedelta(days=1)
    assert clock.monotonic() == 160.0  # pacing stays in real seconds
    assert clock.advance(timedelta(hours=2)) == START + timedelta(days=1, hours=2)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        ScaledClock(start=datetime(2026, 1, 1), speed=1)


def test_a_stopped_feed_ends_exactly_when_it_stopped_and_a_live_one_keeps_posting() -> None:
    stopped = FeedProfile(
        "a", "甲", since=START - timedelta(days=100), every=timedelta(days=3), until=START
    )
    items = stopped.items(START + timedelta(days=30))
    assert items[0][1] == START and len(items) == 34
    live = FeedProfile("b", "乙", since=START - timedelta(days=10), every=timedelta(days=1))
    assert len(live.items(START)) == 11 and len(live.items(START + timedelta(days=5))) == 16
    veto = FeedProfile("c", "丙", since=START, every=timedelta(days=7), veto_at=START)
    assert any("赌场" in body for _t, _w, body in veto.items(START))


def test_the_scenario_covers_every_state_role_and_about_thirty_accounts() -> None:
    states = {state for *_rest, state, _every in ACCOUNTS}
    assert states >= {"fresh", "warning", "dormant", "closure", "broken", "veto", "unreviewed"}
    assert 25 <= len(ACCOUNTS) <= 35 and len({a[2] for a in ACCOUNTS}) >= 7
    assert {r for p in PERSONAS for r in p.roles} == set(Role)
    labels = [p.role_label for p in PERSONAS]
    assert labels == ["管理员", "单位管理员", "初审", "复审", "终审", "编辑", "待加入"]
    assert len(profiles(START)) == len(ACCOUNTS)


@pytest.mark.parametrize(
    ("text", "is_html", "shown"),
    [
        ("<b>粗</b> <i>斜</i> <code>x</code>", True, "<b>粗</b> <i>斜</i> <code>x</code>"),
        ("<strong>s</strong><em>e</em>", True, "<b>s</b><i>e</i>"),
        ('<a href="https://gov.cn/a?b=1&amp;c=2">链</a>', True, "https://gov.cn/a?b=1&amp;c=2"),
        ('<a href="javascript:alert(1)">x</a>', True, "<a>x</a>"),
        ("<script>alert(1)</script>", True, "alert(1)"),
        ('<img src=x onerror="alert(1)">', True, ""),
        ("a &lt; b", True, "a &lt; b"),
        ("<b>未闭合", True, "<b>未闭合</b>"),
        ("<b>用户</b>输入", False, "&lt;b&gt;用户&lt;/b&gt;输入"),
    ],
)
def test_only_telegrams_html_subset_reaches_the_page(text: str, is_html: bool, shown: str) -> None:
    result = telegram_html(text, is_html=is_html)
    assert shown in result
    assert "<script" not in result and "onerror" not in result and "javascript:" not in result


async def test_chats_and_files_survive_a_restart() -> None:
    api = BotApiCore(now=lambda: 1_800_000_000.0)
    api.add_person(Person(7, "甲"))
    stored = api.store(b"\x89PNG...", "图.png")
    api.record(7, 7, text="说明", upload=stored, as_photo=True)
    api.call("sendMessage", {"chat_id": 7, "text": "<b>好</b>", "parse_mode": "HTML"}, {})
    again = BotApiCore(now=lambda: 1_800_000_000.0)
    again.load(api.dump())
    again.add_person(Person(7, "甲"))
    assert [m.view() for m in again.chats[7].messages] == [m.view() for m in api.chats[7].messages]
    assert again.files[stored.file_id].content == b"\x89PNG..."
    later = again.call("sendMessage", {"chat_id": 7, "text": "再"}, {})
    assert later["message_id"] > max(m.message_id for m in api.chats[7].messages)


@pytest.mark.parametrize(
    ("epoch", "begins"),
    [
        (datetime(2026, 12, 1, 3, tzinfo=UTC), datetime(2026, 6, 20, 16, tzinfo=UTC)),
        (datetime(2026, 2, 10, 3, tzinfo=UTC), datetime(2025, 9, 20, 16, tzinfo=UTC)),
    ],
)
def test_the_farms_history_covers_the_whole_previous_quarter(
    epoch: datetime, begins: datetime
) -> None:
    assert history_start(epoch) == begins  # 10 days before 07-01 / 10-01, Shanghai midnight


def test_the_digests_follow_the_demo_clock_not_the_wall_clock() -> None:
    from types import SimpleNamespace

    from bot.demo.run import Demo, DemoOptions
    from bot.settings import Settings

    demo = Demo(DemoOptions())
    demo.app = SimpleNamespace(settings=Settings(_env_file=None))  # type: ignore[assignment]
    monday_8am = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai, a Monday
    hour = timedelta(hours=1)
    assert demo.digests_between(monday_8am, monday_8am + hour / 2) == ()
    assert demo.digests_between(monday_8am, monday_8am + hour) == ("daily_digest", "weekly_digest")
    tuesday = monday_8am + timedelta(days=1)
    assert demo.digests_between(tuesday, tuesday + 2 * hour) == ("daily_digest",)
    assert demo.digests_between(tuesday, tuesday + timedelta(days=30)) == (
        "daily_digest",
        "weekly_digest",
    )


async def test_the_embedded_api_keeps_reply_keyboards_photos_and_edits() -> None:
    api = BotApiCore(now=lambda: 1_800_000_000.0)
    api.add_person(Person(7, "甲"))
    events = api.listen()
    keyboard = {"keyboard": [[{"text": "是"}, "否"]], "resize_keyboard": True}
    sent = api.call("sendMessage", {"chat_id": 7, "text": "确定？", "reply_markup": keyboard}, {})
    assert api.chats[7].reply_keyboard == [["是", "否"]]
    api.call(
        "sendMessage", {"chat_id": 7, "text": "好", "reply_markup": {"remove_keyboard": True}}, {}
    )
    assert api.chats[7].reply_keyboard is None
    edited = api.call(
        "editMessageText",
        {
            "chat_id": 7,
            "message_id": sent["message_id"],
            "text": "<i>已确定</i>",
            "parse_mode": "HTML",
        },
        {},
    )
    assert edited["text"] == "<i>已确定</i>" and api.chats[7].messages[0].view()["edited"]
    photo = api.store(b"\x89PNG", "现场.png")
    api.send(7, 7, text="现场照片", upload=photo, as_photo=True)
    update = api._updates[-1]["message"]
    assert update["photo"][0]["file_id"] == photo.file_id and update["caption"] == "现场照片"
    assert api.call("getFile", {"file_id": photo.file_id}, {})["file_path"] == photo.path
    kinds = [events.get_nowait()["type"] for _ in range(events.qsize())]
    assert kinds == ["keyboard", "message", "keyboard", "message", "edit", "message"]
    with pytest.raises(LookupError):
        api.send(8, 7, text="陌生人")  # nobody may write into someone else's chat


def test_the_demo_command_refuses_a_bad_speed_or_port(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    assert main(["demo", "--speed", "0"]) == 2
    assert main(["demo", "--port", "70000"]) == 2
    assert "倍速" in capsys.readouterr().err
