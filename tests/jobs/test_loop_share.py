"""Jobs in the bot's process let the chat's replies go first and work in slices."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

from bot.app import BotApp
from feeds.feedparse import ParsedItem
from jobs import quality_scan
from jobs.polltypes import StoredItem
from jobs.quality_scan import QualityScan
from jobs.slices import LoopShare
from tests.fakes.chat import BusyChat
from tests.models.test_findings_pii import _account
from workflows.checker import LiveChecker


async def test_a_job_step_waits_while_updates_are_being_handled() -> None:
    chat = BusyChat(in_flight=2)
    step = asyncio.ensure_future(LoopShare(chat, max_wait=60).checkpoint())
    await asyncio.wait_for(chat.waited_on.wait(), 5)
    assert not step.done()  # an update is in flight: the job waits
    chat.finish()
    await asyncio.wait_for(step, 5)


async def test_a_chat_that_never_goes_quiet_holds_a_job_step_no_longer_than_max_wait() -> None:
    chat = BusyChat(in_flight=1)
    await asyncio.wait_for(LoopShare(chat, max_wait=0).checkpoint(), 5)
    assert chat.in_flight == 1


async def test_without_updates_a_step_yields_only_once_its_slice_is_spent() -> None:
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    pending = asyncio.ensure_future(other())
    await LoopShare(BusyChat(in_flight=0), budget=3600).checkpoint()
    assert ran == []  # budget left: no yield, no cost
    await LoopShare(None, budget=0).checkpoint()
    assert ran == ["other"] and pending.done()  # budget spent: the loop ran what was ready


async def test_small_items_of_work_wait_for_the_chat_only_once_their_slice_is_spent() -> None:
    chat = BusyChat(in_flight=1)
    await LoopShare(chat, budget=3600, max_wait=60).slice()
    assert not chat.waited_on.is_set()  # budget left: an update in flight costs nothing yet
    spent = asyncio.ensure_future(LoopShare(chat, budget=0, max_wait=60).slice())
    await asyncio.wait_for(chat.waited_on.wait(), 5)
    assert not spent.done()  # budget spent and an update in flight: the replies go first
    chat.finish()
    await asyncio.wait_for(spent, 5)


def _stored(post_id: int, title: str, body: str, now: datetime) -> StoredItem:
    """A post just stored, as the poll tick hands it to the content checks."""
    parsed = ParsedItem(
        identity=title,
        guid=title,
        title=title,
        link=None,
        author=None,
        published=now,
        body_text=body,
        body_html=f"<p>{body}</p>",
    )
    return StoredItem(post_id=post_id, item=parsed)


async def test_new_posts_are_checked_on_the_loop_between_the_chats_replies(
    sessionmaker, clock
) -> None:  # type: ignore[no-untyped-def]
    """The poll tick's content checks run in slices on the loop (a thread would share the
    interpreter's lock with the replies): with the chat busy, nothing is checked until it is
    quiet."""
    account_id = await _account(sessionmaker, clock.now())
    scan = QualityScan(live=LiveChecker(), alert_chat_id=None)
    stored = [_stored(1, "澳门赌场上线", "正文", clock.now())]
    chat = BusyChat(in_flight=1)
    checks = asyncio.ensure_future(
        scan.prepare(
            sessionmaker,
            account_id=account_id,
            stored=stored,
            share=LoopShare(chat, budget=0, max_wait=60),
        )
    )
    await asyncio.wait_for(chat.waited_on.wait(), 5)
    assert not checks.done()
    chat.finish()
    checked = await asyncio.wait_for(checks, 5)
    assert checked is not None and [post_id for post_id, _ in checked] == [1]
    alone = await scan.prepare(sessionmaker, account_id=account_id, stored=stored)
    assert alone is not None and alone[0][1].findings == checked[0][1].findings


async def test_a_post_too_large_for_a_slice_is_checked_in_a_thread(
    sessionmaker, clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    account_id = await _account(sessionmaker, clock.now())
    ran_on: dict[str, int] = {}
    check = quality_scan.check_document

    def recorded(checker, *, title, **kwargs):  # type: ignore[no-untyped-def]
        ran_on[title] = threading.get_ident()
        return check(checker, title=title, **kwargs)

    monkeypatch.setattr(quality_scan, "check_document", recorded)

    big = "政务公开" * (quality_scan.ON_LOOP_MAX_CHARS // 4)
    scan = QualityScan(live=LiveChecker(), alert_chat_id=None)
    checked = await scan.prepare(
        sessionmaker,
        account_id=account_id,
        stored=[_stored(1, "短", "正文", clock.now()), _stored(2, "长长", big, clock.now())],
        share=LoopShare(BusyChat(in_flight=0)),
    )
    assert checked is not None and len(checked) == 2
    assert ran_on["短"] == threading.get_ident(), "a short post is checked on the loop"
    assert ran_on["长长"] != threading.get_ident(), "a long one in a thread: the loop goes on"


async def test_the_bot_hands_its_update_count_to_the_poll_tick_and_the_evaluation(
    app: BotApp,
) -> None:
    assert app.scheduler is not None
    for job_id in ("poll_feeds", "evaluate_accounts"):
        job = app.scheduler.get_job(job_id)
        assert job is not None and job.kwargs["replies"] is app.activity
