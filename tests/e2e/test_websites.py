"""Government websites end to end: the real bot, the local site farm, the fake Bot API, and the
manual clock moved day by day (never sleeping for time to pass)."""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.settings import Settings
from documents.ledgerbook import ledger_workbook
from governance.cases import CaseKind, CaseStatus
from governance.roles import Role
from governance.websites import ColumnClass
from models import people
from models.audit import AuditEntry
from models.cases import Case
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.monitoring import drain_outbox
from tests.e2e.seed import seed_person, seed_unit
from tests.e2e.websites import (
    MANAGER,
    RESPONSIBLE,
    columns,
    evaluate,
    probe_until,
    watch,
    website,
    website_office,
)
from tests.fakes.sites import Column, DateStyle, HomeMode, Layout, LinkStyle, SiteFarm, SiteItem
from tests.fakes.telegram import FakeTelegram
from workflows.websites import add_column

TZ = ZoneInfo("Asia/Shanghai")
ALERT_CHAT = -1009100
TODAY = date(2026, 1, 5)  # the manual clock starts at 2026-01-05 09:00 in Beijing


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    return make_settings(database_url, tg.base, alert_chat_id=ALERT_CHAT, website_probe_timeout=0.3)


@pytest.fixture
async def farm() -> AsyncIterator[SiteFarm]:
    async with SiteFarm(today=TODAY, slow_seconds=1.0) as server:
        yield server


def dated(n: int, newest: date, title: str) -> list[SiteItem]:
    return [
        SiteItem(
            f"{title}第{i + 1}期", datetime.combine(newest - timedelta(days=2 * i), time(9 + i % 8))
        )
        for i in range(n)
    ]


NEWS = [  # five common CMS layouts, both encodings, every date style
    Column("xwdt", "新闻动态", layout=Layout.TRS_UL, date_style=DateStyle.DASH),
    Column("gzdt", "工作动态", layout=Layout.HANWEB_TABLE, date_style=DateStyle.CHINESE,
           encoding="gbk", declare="meta", link_style=LinkStyle.ART),
    Column("bmdt", "部门动态", layout=Layout.JIYUE_DL, date_style=DateStyle.SLASH,
           encoding="gb18030", declare="header"),
    Column("xzdt", "乡镇动态", layout=Layout.JCMS_DIV, date_style=DateStyle.BRACKET,
           link_style=LinkStyle.YMD),
    Column("ywdt", "要闻", layout=Layout.DATE_BEFORE, date_style=DateStyle.DOT, encoding="gbk",
           declare="both"),
]  # fmt: skip


def build_site(farm: SiteFarm) -> None:
    for column in NEWS:
        column.items = dated(6, TODAY - timedelta(days=1), column.name)
    notice = Column("tzgg", "通知公告", column_class="通知公告", layout=Layout.ANCHOR_BLOCK,
                    date_style=DateStyle.DATETIME)  # fmt: skip
    notice.items = dated(4, TODAY - timedelta(days=30), "关于做好冬季安全工作的通知")
    farm.add_site("qzf", "某区人民政府", [*NEWS, notice])


async def quarter_report(tg: FakeTelegram):  # type: ignore[no-untyped-def]
    admin = tg.user(ADMIN_ID, "王主任")
    menu = (await admin.send("/report"))[-1]
    scope = (await admin.press(menu, "本季度"))[-1]
    mark = tg.mark()
    await admin.press(scope, "全部单位")

    def documents() -> list:  # type: ignore[type-arg]
        return [c for c in tg.sent_to(ADMIN_ID, since=mark) if c.method == "sendDocument"]

    await tg.until(lambda: bool(documents()), timeout=20)
    return load_workbook(io.BytesIO(documents()[0].document))


@pytest.mark.both_backends  # claims, JSON vetoes, the column counter update
async def test_columns_are_read_and_the_update_rules_fire_then_clear(
    app, clock, tg: FakeTelegram, farm: SiteFarm
) -> None:
    build_site(farm)
    pages = [(c.name, farm.column_url("qzf", c.slug), ColumnClass.NEWS) for c in NEWS]
    pages.append(("通知公告", farm.column_url("qzf", "tzgg"), ColumnClass.NOTICE))
    account, _ids = await website_office(
        app, clock, name="某区人民政府门户网站", home_url=farm.home_url("qzf"), columns=pages
    )
    tick = await watch(app, clock)
    assert tick.read == 7 and tick.outcomes == {"ok": 7}
    read = await columns(app, account)
    for column in [*NEWS, farm.sites["qzf"].columns["tzgg"]]:
        row = read[column.name]
        truth = farm.expected("qzf", column.slug)
        assert row.items == len(truth), column.name
        newest = max(t.published for t in truth)
        assert row.last_update is not None
        assert row.last_update.astimezone(TZ).date() == newest, column.name
    assert read["首页"].items > 0 and not read["首页"].portal

    first = await evaluate(app, clock)
    assert first.outcomes == {"unassessable": 1}  # nobody has visited the home page a week yet
    assert (await website(app, account)).vetoes == []

    # two weeks without anything new: home page and five news columns are not updated
    clock.advance(timedelta(days=12))  # 01-17 09:00: 13 days 9 hours since the 01-04 items
    await watch(app, clock)
    await evaluate(app, clock)
    assert (await website(app, account)).vetoes == []
    clock.advance(timedelta(days=1))  # 14 days 9 hours: both vetoes
    await watch(app, clock)
    since = len(tg.calls)
    await evaluate(app, clock)
    site = await website(app, account)
    assert site.vetoes == ["home_update", "column_update"] and site.outcome == "fail"
    await drain_outbox(app)
    texts = [
        c.text for c in tg.calls[since:] if c.method == "sendMessage" and c.chat_id == RESPONSIBLE
    ]
    assert sum(t.startswith("🚨 网站单项否决") for t in texts) == 2
    assert any(t.startswith("📋 整改通知") for t in texts)  # the case reached the same person
    assert any("栏目不更新" in t for t in texts) and any("首页不更新" in t for t in texts)
    async with app.sessionmaker() as session:
        case = (await session.exec(select(Case).where(Case.account_id == account))).one()
    assert case.kind == CaseKind.WEBSITE and case.status == CaseStatus.OPEN
    assert {p["rule"] for p in case.problems} == {"home_update", "column_update"}
    manager_texts = [c.text for c in tg.calls[since:] if c.chat_id == MANAGER]
    assert any("网站单项否决" in t for t in manager_texts)

    # the quarterly report has the website's row, with the vetoes and the verdict
    book = await quarter_report(tg)
    assert "网站" in book.sheetnames
    rows = [[c.value for c in row] for row in book["网站"].iter_rows()]
    assert rows[0][:5] == ["编号", "单位", "网站名称", "首页地址", "监测栏目数"]
    assert rows[0][5:] == [
        "站点无法访问",
        "首页不更新",
        "栏目不更新",
        "严重错误",
        "扣分",
        "得分",
        "结论",
    ]
    (row,) = rows[1:]
    assert row[2] == "某区人民政府门户网站" and row[4] == 6
    assert str(row[5]).startswith("无法评估") and str(row[6]).startswith("单项否决")
    assert str(row[7]).startswith("单项否决：动态要闻类2周内") and row[-1] == "不合格"
    accounts = [[c.value for c in r] for r in book["账号"].iter_rows()]
    assert len(accounts) == 1  # the website is not an account row

    # a second evaluation says nothing new
    since = len(tg.calls)
    await evaluate(app, clock)
    await drain_outbox(app)
    assert not [c for c in tg.calls[since:] if c.method == "sendMessage"]

    # the office publishes again: the rules clear and the case is resolved by monitoring
    now_local = clock.now().astimezone(TZ).replace(tzinfo=None)
    for column in NEWS:
        farm.publish("qzf", column.slug, f"{column.name}最新工作进展", now_local)
    clock.advance(timedelta(hours=7))  # the pages are read again on their own schedule
    assert (await watch(app, clock)).new_items >= 5
    await evaluate(app, clock)
    site = await website(app, account)
    assert site.vetoes == []
    async with app.sessionmaker() as session:
        case = (await session.exec(select(Case).where(Case.account_id == account))).one()
    assert case.status == CaseStatus.RESOLVED


@pytest.mark.both_backends  # the per-day visit tally is an upsert
async def test_a_flapping_home_page_alerts_recovers_and_fails_availability_after_a_week(
    app, clock, tg: FakeTelegram, farm: SiteFarm
) -> None:
    build_site(farm)
    account, _ids = await website_office(
        app, clock, name="某区人民政府门户网站", home_url=farm.home_url("qzf"), columns=[]
    )
    visits: Counter[date] = Counter()

    def flap(now: datetime) -> None:
        day = now.astimezone(TZ).date()
        visits[day] += 1
        n = visits[day]
        if day == date(2026, 1, 6) and n in (1, 2):
            farm.set_home_schedule("qzf", [HomeMode.ERROR if n == 1 else HomeMode.SLOW])
        elif day == date(2026, 1, 8) and 5 <= n <= 11:
            farm.set_home_schedule("qzf", [HomeMode.ERROR])

    rng = random.Random(11)
    start = len(tg.calls)
    # up to the end of 01-12 the week holds a partial day: not measured, no verdict
    end_12 = datetime(2026, 1, 12, 23, 59, tzinfo=TZ).astimezone(UTC)
    done = await probe_until(app, clock, end_12, rng, before_visit=flap)
    assert done.failed == 9
    await evaluate(app, clock)
    assert "availability" not in (await website(app, account)).vetoes
    await drain_outbox(app)
    texts = [
        c.text for c in tg.calls[start:] if c.method == "sendMessage" and c.chat_id == RESPONSIBLE
    ]
    assert sum("网站无法访问" in t for t in texts) == 2  # two outages
    assert sum("网站恢复访问" in t for t in texts) == 2  # each followed by its recovery
    assert all(visits[date(2026, 1, d)] == 24 for d in range(6, 13))

    # after midnight the last 7 days are complete: 9 of 168 visits failed (5.4 %): veto
    await probe_until(app, clock, datetime(2026, 1, 13, 0, 30, tzinfo=TZ).astimezone(UTC), rng)
    since = len(tg.calls)
    await evaluate(app, clock)
    site = await website(app, account)
    assert "availability" in site.vetoes and site.outcome == "fail"
    await drain_outbox(app)
    texts = [c.text for c in tg.calls[since:] if c.method == "sendMessage"]
    assert any("站点无法访问" in t and "9 次" in t for t in texts)


async def test_admins_file_a_website_and_its_columns_in_chat(
    app, clock, tg: FakeTelegram, farm: SiteFarm
) -> None:
    build_site(farm)
    now = clock.now()
    unit = await seed_unit(app.sessionmaker, "某区人民政府办公室", now)
    person = await seed_person(
        app.sessionmaker, telegram_id=RESPONSIBLE, name="王网管", unit_id=unit,
        roles=(Role.EDITOR,), now=now,
    )  # fmt: skip
    other = await seed_unit(app.sessionmaker, "某街道办", now)
    await seed_person(
        app.sessionmaker, telegram_id=MANAGER, name="钱主任", unit_id=other,
        roles=(Role.UNIT_MANAGER,), now=now,
    )  # fmt: skip
    admin = tg.user(ADMIN_ID, "王主任")
    home = farm.home_url("qzf")
    done = (await admin.send(f"/websites add {unit}|某区政府门户网站|{home}|{person}"))[-1]
    assert "已登记网站" in done.text
    account = int(done.text.split("#", 1)[1].split("：", 1)[0])
    news = farm.column_url("qzf", "xwdt")
    added = (await admin.send(f"/websites column {account}|新闻动态|{news}|动态要闻"))[-1]
    assert "已添加栏目" in added.text and "动态要闻" in added.text
    again = (await admin.send(f"/websites column {account}|新闻动态|{news}|动态要闻"))[-1]
    assert "该栏目地址已登记" in again.text
    bad = (await admin.send(f"/websites column {account}|栏目|{news}x|博客"))[-1]
    assert "栏目类别应为" in bad.text
    column = int(added.text.split("#", 1)[1].split("：", 1)[0])
    wrong = (await admin.send(f"/websites selector {column}|ul[[["))[-1]
    assert "选择器写法有误" in wrong.text

    # a manager of another unit may neither add columns nor see the website
    manager = tg.user(MANAGER, "钱主任")
    refused = (await manager.send(f"/websites column {account}|工作动态|{news}?a|动态要闻"))[-1]
    assert "只有管理员和本单位管理员" in refused.text
    assert "（0 个）" in (await manager.send("/websites"))[-1].text

    await watch(app, clock)
    listing = (await admin.send("/websites"))[-1]
    assert "某区政府门户网站" in listing.text
    card = (await admin.press(listing, f"#{account} 某区政府门户网站"))[-1]
    assert "首页：" in card.text and "新闻动态［动态要闻］6 条，最近 2026-01-04" in card.text
    assert "首页外部链接域名" in card.text  # the farm's friend links, for the hidden-link rules
    farm.set_home_schedule("qzf", [HomeMode.ERROR])
    until = clock.now() + timedelta(hours=3)
    await probe_until(app, clock, until, random.Random(2))
    card = (await admin.press(listing, f"#{account} 某区政府门户网站"))[-1]
    assert "近 7 天访问 3 次，打不开 1 次（33.3%）" in card.text  # 09:00, 10:xx, 11:xx
    async with app.sessionmaker() as session:
        actions = [
            a.action
            for a in (await session.exec(select(AuditEntry).where(AuditEntry.object_id == account)))
        ]
    assert {"account.registered", "website.registered", "website.column_added"} <= set(actions)


async def test_the_ledger_files_and_exports_websites_with_their_columns(
    app, clock, tg: FakeTelegram, farm: SiteFarm
) -> None:
    build_site(farm)
    now = clock.now()
    unit = await seed_unit(app.sessionmaker, "某区人民政府办公室", now)
    await seed_person(
        app.sessionmaker, telegram_id=RESPONSIBLE, name="王网管", unit_id=unit,
        roles=(Role.EDITOR,), now=now,
    )  # fmt: skip
    admin = tg.user(ADMIN_ID, "王主任")
    home = farm.home_url("qzf")
    site = ["某区人民政府办公室", "某区政府门户网站", home, "王网管"]
    street = ["某街道办", "某街道门户网站", "http://127.0.0.1:9/jd/", "王五"]
    websites_sheet = [
        [*site, "新闻动态", farm.column_url("qzf", "xwdt"), "动态要闻", "是", ""],
        [*site, "通知公告", farm.column_url("qzf", "tzgg"), "通知公告", "是", ""],
        [*street],  # responsible person invited by the 台账 sheet's row below
        ["某区人民政府办公室", "某网站", "http://127.0.0.1:9/x/", "查无此人"],
    ]
    accounts = [
        ["某街道办", "微博", "街道微博", "jd_wb", "王五", 3, "发布街道政务信息，回应居民关切。",
         "每周三条，办公室编辑，分管领导审核。", "", "", "在用", ""],
    ]  # fmt: skip
    data = ledger_workbook(accounts, websites=websites_sheet)
    reply = (await admin.send_document(data, "台账.xlsx"))[-1].text
    assert "✅ 台账已导入：新增账号 1 个" in reply
    assert "网站工作表：新增网站 2 个、栏目 2 个，0 行与已有记录相同。" in reply
    assert "网站第 5 行" in reply and "查无此人" in reply

    tick = await watch(app, clock)
    assert tick.outcomes.get("ok", 0) >= 3  # the office's home page and its two columns

    menu = (await admin.send("/ledger"))[-1]
    [export] = [c for c in await admin.press(menu, "导出台账") if c.method == "sendDocument"]
    book = load_workbook(io.BytesIO(export.document))
    rows = [[c.value for c in r] for r in book["网站"].iter_rows()]
    assert rows[0][:4] == ["单位", "网站名称", "首页地址", "责任人"]
    assert [r[4] for r in rows[1:]] == ["新闻动态", "通知公告", None]
    assert rows[3][:4] == ["某街道办", "某街道门户网站", "http://127.0.0.1:9/jd/", "王五"]
    again = (await admin.send_document(export.document, "台账.xlsx"))[-1].text
    assert "新增网站 0 个、栏目 0 个，3 行与已有记录相同" in again


async def test_a_gambling_title_in_a_column_is_a_veto_with_its_alert_and_case(
    app, clock, tg: FakeTelegram, farm: SiteFarm
) -> None:
    build_site(farm)
    account, _ids = await website_office(
        app,
        clock,
        name="某区人民政府门户网站",
        home_url=farm.home_url("qzf"),
        columns=[("新闻动态", farm.column_url("qzf", "xwdt"), ColumnClass.NEWS)],
    )
    await watch(app, clock)
    now_local = clock.now().astimezone(TZ).replace(tzinfo=None)
    farm.publish("qzf", "xwdt", "澳门葡京赌场官网注册就送88元彩金", now_local)
    clock.advance(timedelta(hours=7))
    since = len(tg.calls)
    assert (await watch(app, clock)).new_items >= 1
    await evaluate(app, clock)
    site = await website(app, account)
    assert "serious_error" in site.vetoes and site.outcome == "fail"
    await drain_outbox(app)
    texts = [c.text for c in tg.calls[since:] if c.chat_id == RESPONSIBLE]
    assert any(t.startswith("🚨 单项否决问题") for t in texts)  # the content alert, once
    assert not any(t.startswith("🚨 网站单项否决") for t in texts)
    async with app.sessionmaker() as session:
        case = (await session.exec(select(Case).where(Case.account_id == account))).one()
    assert case.kind == CaseKind.CONTENT


async def test_a_portal_home_page_is_judged_by_its_second_level_pages_and_empty_columns_count(
    app, clock, tg: FakeTelegram, farm: SiteFarm
) -> None:
    news = Column("xwdt", "新闻动态", layout=Layout.TRS_UL)
    news.items = dated(5, TODAY - timedelta(days=1), "新闻动态")
    empties = [Column(f"kb{i}", f"空白栏目{i}", column_class="通知公告") for i in range(5)]
    farm.add_site("portal", "某镇人民政府", [news, *empties], portal=True)
    pages = [("新闻动态", farm.column_url("portal", "xwdt"), ColumnClass.NEWS)]
    pages += [(c.name, farm.column_url("portal", c.slug), ColumnClass.OTHER) for c in empties[:4]]
    account, _ids = await website_office(
        app, clock, name="某镇政府网站", home_url=farm.home_url("portal"), columns=pages
    )
    await watch(app, clock)
    read = await columns(app, account)
    assert read["首页"].portal and read["首页"].readable
    assert all(read[c.name].readable and read[c.name].items == 0 for c in empties[:4])
    await evaluate(app, clock)
    assert (await website(app, account)).vetoes == []  # fresh second-level page; 4 empty

    # the fifth empty column reaches the limit (≥ 5 空白栏目)
    async with app.sessionmaker() as session:
        admin = await people.get_user_by_telegram_id(session, ADMIN_ID)
        await add_column(
            session,
            actor=await people.actor_for(session, admin),
            account_id=account,
            name=empties[4].name,
            url=farm.column_url("portal", empties[4].slug),
            kind=ColumnClass.OTHER,
            now=clock.now(),
        )
        await session.commit()
    await watch(app, clock)
    await evaluate(app, clock)
    assert (await website(app, account)).vetoes == ["column_update"]

    # two weeks on, no second-level page has anything new: the portal's 首页不更新
    clock.advance(timedelta(days=15))
    await watch(app, clock)
    await evaluate(app, clock)
    assert (await website(app, account)).vetoes == ["home_update", "column_update"]
