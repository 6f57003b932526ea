"""What operations sees: /healthz, /readyz and /metrics (scraped and parsed with the Prometheus
text parser), and every Bot API request going through TELEGRAM_PROXY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot import db
from bot.app import BotApp
from governance.clock import ManualClock
from models.outbox import OutboxMessage
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.test_webhook import free_port
from tests.fakes.proxy import FakeProxy
from tests.fakes.telegram import FakeTelegram

EXPECTED_FAMILIES = {
    "govbot_database_up",
    "govbot_polls_last_hour",
    "govbot_poll_duration_seconds_last_hour",
    "govbot_feeds_due",
    "govbot_feeds_monitored",
    "govbot_feeds_failing",
    "govbot_feeds_due_oldest_seconds",
    "govbot_posts_stored",
    "govbot_findings_open",
    "govbot_outbox_messages",
    "govbot_outbox_retrying",
    "govbot_delivery_seconds_last_hour",
    "govbot_reviews",
    "govbot_review_sla_breaches",
    "govbot_cases_open",
    "govbot_webhook_backlog",
    "govbot_telegram_requests",
    "govbot_webhook_updates",
    "govbot_replica_role",
    "govbot_telegram_reachable",
}


@pytest.fixture
async def monitored(
    database_url: str, tg: FakeTelegram, clock: ManualClock
) -> AsyncIterator[BotApp]:
    settings = make_settings(database_url, tg.base, metrics_port=0, metrics_host="127.0.0.1")
    app = BotApp(settings, clock=clock, migrate=False)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def _get(app: BotApp, path: str) -> tuple[int, str]:
    assert app.web is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{app.web.port}{path}") as resp,
    ):
        return resp.status, await resp.text()


async def test_metrics_are_scraped_and_parse_as_prometheus_text(
    monitored: BotApp, tg: FakeTelegram, clock: ManualClock
) -> None:
    replies = await tg.user(ADMIN_ID, "王主任").send("/start")
    assert replies
    assert monitored.sessionmaker is not None and monitored.sender is not None
    async with monitored.sessionmaker() as session:  # a queued notice, as rows are stored
        session.add(
            OutboxMessage(
                chat_id=ADMIN_ID,
                kind="user.active_changed",
                params={"who": "李科长", "active": True},
                created_at=clock.now(),
                next_attempt_at=clock.now(),
            )
        )
        await session.commit()
    mark = tg.mark()
    monitored.sender.wake()
    await tg.wait_for(lambda c: c.method == "sendMessage" and "李科长" in c.text, since=mark)
    await monitored.idle()  # the sender records the delivery after Telegram answered
    clock.advance(timedelta(seconds=5))

    status, body = await _get(monitored, "/metrics")

    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body)}
    assert set(families) >= EXPECTED_FAMILIES, EXPECTED_FAMILIES - set(families)
    value = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert value[("govbot_database_up", ())] == 1
    # one process on SQLite is "single"; on PostgreSQL the only replica leads the polling
    role = "leader" if monitored.settings.database_url.startswith("postgresql") else "single"
    assert value[("govbot_replica_role", (("role", role),))] == 1
    assert value[("govbot_telegram_reachable", ())] == 1
    assert value[("govbot_telegram_requests_total", (("outcome", "ok"),))] >= 2
    assert value[("govbot_poll_duration_seconds_last_hour_gcount", ())] == 0
    assert value[("govbot_outbox_messages", (("status", "sent"),))] == 1
    assert value[("govbot_delivery_seconds_last_hour_gcount", ())] == 1
    assert value[("govbot_feeds_due", ())] == 0


async def test_health_and_readiness_answer(monitored: BotApp) -> None:
    assert (await _get(monitored, "/healthz"))[0] == 200
    status, body = await _get(monitored, "/readyz")
    assert status == 200, body
    assert '"database": true' in body and '"migrations": true' in body


async def test_readiness_fails_while_the_database_is_behind_the_code(monitored: BotApp) -> None:
    """E.g. a replica of a newer release started before ``python -m bot migrate`` ran."""
    assert monitored.engine is not None
    async with monitored.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE alembic_version SET version_num = '0008_findings_pii_masked'")
        )
    try:
        status, body = await _get(monitored, "/readyz")
    finally:
        async with monitored.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE alembic_version SET version_num = :v"),
                {"v": db.head_revision()},
            )

    assert status == 503
    assert '"migrations": false' in body and '"database": true' in body


async def test_readiness_fails_when_the_bot_api_has_not_answered_for_a_minute(
    database_url: str, tg: FakeTelegram, clock: ManualClock
) -> None:
    """In webhook mode nothing calls Telegram by itself between messages."""
    port = free_port()
    settings = make_settings(
        database_url,
        tg.base,
        bot_mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_secret="secret",
        webhook_listen=f"127.0.0.1:{port}",
    )
    app = BotApp(settings, clock=clock, migrate=False)
    await app.start()
    try:
        assert (await _get(app, "/readyz"))[0] == 200
        app.reachability.last_ok = asyncio.get_running_loop().time() - 61
        status, body = await _get(app, "/readyz")
    finally:
        await app.stop()

    assert status == 503
    assert '"telegram": false' in body


async def test_every_bot_api_request_goes_through_the_configured_proxy(
    database_url: str, tg: FakeTelegram, clock: ManualClock
) -> None:
    async with FakeProxy() as proxy:
        settings = make_settings(database_url, tg.base, telegram_proxy=proxy.url)
        app = BotApp(settings, clock=clock, migrate=False)
        await app.start()
        try:
            replies = await tg.user(ADMIN_ID, "王主任").send("/start")
        finally:
            await app.stop()

    assert "管理员" in replies[-1].text
    assert proxy.tunnels and proxy.refused == 0
    port = tg.base.rsplit(":", 1)[1]
    assert {target for target, _ in proxy.tunnels} == {f"127.0.0.1:{port}"}


async def test_files_are_read_from_the_shared_directory_of_a_local_bot_api_server(
    database_url: str, tg: FakeTelegram, clock: ManualClock, tmp_path: Path
) -> None:
    """telegram-bot-api --local: getFile gives a path on the server's disk, mounted here."""
    tg.local_dir = tmp_path / "tg-files"
    settings = make_settings(
        database_url,
        tg.base,
        telegram_api_local=True,
        telegram_api_files_dir=str(tg.local_dir),
    )
    app = BotApp(settings, clock=clock, migrate=False)
    await app.start()
    try:
        admin = tg.user(ADMIN_ID, "王主任")
        await admin.send("/start")
        reply = (await admin.send_document(b"PK\x03\x04broken", "台账.xlsx"))[-1].text
    finally:
        await app.stop()

    assert "文件可能已损坏" in reply  # read (from disk) and checked, not a download failure
    [got] = [c for c in tg.calls if c.method == "getFile"]
    assert str(got.result["file_path"]).startswith("/var/lib/telegram-bot-api/")
