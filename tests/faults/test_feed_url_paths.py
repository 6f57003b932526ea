"""Every path that stores a feed URL runs registration's check: the account card's edit, the chat
ledger import and the CLI ledger import refuse what the guard would refuse at poll time.

The bot under test allows private feeds (its feeds live on 127.0.0.1), so the chat paths are
tried with a metadata address, which no setting lets through; the CLI runs with the default
(private feeds refused) and is tried with loopback. Nothing connects to either address.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from documents.ledgerbook import ledger_workbook
from governance.roles import Role
from models.accounts import Account
from tests.bot.test_ledger_cli import _run
from tests.conftest import ADMIN_ID
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.e2e.test_ledger import line
from tests.fakes.telegram import FakeTelegram

METADATA_FEED = "http://[::ffff:169.254.169.254]/latest/meta-data"
LOOPBACK_FEED = "http://[::1]:8080/feed"


def _with_feed(row: list[object], url: str) -> list[object]:
    row[9] = url
    return row


async def _accounts(app) -> dict[str, Account]:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return {a.name: a for a in await session.exec(select(Account))}


async def test_the_card_refuses_a_feed_url_the_guard_refuses(app, tg: FakeTelegram, clock) -> None:
    unit = await seed_unit(app.sessionmaker, "某区文旅局", clock.now())
    person = await seed_person(
        app.sessionmaker,
        telegram_id=5001,
        name="陈编辑",
        unit_id=unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=person,
        name="文旅号",
        now=clock.now(),
    )
    admin = tg.user(ADMIN_ID, "王主任")
    card = (await admin.press((await admin.send("/accounts"))[-1], "文旅号"))[-1]
    menu = (await admin.press(card, "修改信息"))[-1]
    await admin.press(menu, "订阅源地址")
    refused = (await admin.send(METADATA_FEED))[-1]
    assert "订阅源检查未通过" in refused.text and "不允许访问内网或保留地址" in refused.text
    assert (await _accounts(app))["文旅号"].feed_url is None


async def test_the_chat_import_refuses_a_feed_url_the_guard_refuses(
    app, tg: FakeTelegram, clock
) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    data = ledger_workbook(
        [
            line("某街道办", "微博", "街道微博", "jd_wb", "王五"),
            _with_feed(line("某街道办", "抖音", "街道抖音", "jd_dy", "王五"), METADATA_FEED),
        ]
    )
    report = (await admin.send_document(data, "台账.xlsx"))[-1].text
    assert "台账未导入" in report and "第 3 行" in report and "订阅源地址" in report
    assert "不允许访问内网或保留地址" in report
    assert await _accounts(app) == {}


def test_the_cli_import_refuses_a_feed_url_the_guard_refuses(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "台账.xlsx").write_bytes(
        ledger_workbook(
            [_with_feed(line("某街道办", "微博", "街道微博", "jd_wb", "王五"), LOOPBACK_FEED)]
        )
    )
    run = _run(database_url, "import", "台账.xlsx", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "第 2 行" in run.stdout and "不允许访问内网或保留地址" in run.stdout
    assert "未导入" in run.stdout
