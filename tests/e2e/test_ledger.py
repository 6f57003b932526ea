"""The ledger in chat: template, export, and import by sending the bot a file."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.app import BotApp
from documents.ledgerbook import ledger_workbook
from governance.ledgertable import HEADERS
from governance.roles import Role
from models.accounts import Account
from models.people import Unit
from tests.conftest import ADMIN_ID
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.telegram import Call, FakeTelegram

NECESSITY = "发布教育政策和招生信息，回应家长关切。"
PLAN = "每周三条：政策解读、招生通知、校园动态；办公室编辑，分管领导审核。"


def line(unit: str, platform: str, name: str, ref: str, person: str, per_week: object = 3) -> list:
    return [unit, platform, name, ref, person, per_week, NECESSITY, PLAN, "", "", "在用", ""]


def sheet(call: Call, title: str = "台账") -> list[list[object]]:
    book = load_workbook(io.BytesIO(call.document))
    return [[c.value for c in row] for row in book[title].iter_rows()]


async def _accounts(app: BotApp) -> list[Account]:
    async with app.sessionmaker() as session:
        return list(await session.exec(select(Account)))


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


async def test_template_and_export_are_downloadable_from_chat(app, tg: FakeTelegram, clock) -> None:
    unit, teacher = await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    await admin.send("/start")
    await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=teacher,
        name="教育微博",
        now=clock.now(),
    )
    menu = (await admin.send("/ledger"))[-1]
    assert {b["text"] for b in menu.buttons} == {"📤 导出台账", "📄 下载模板", "📥 导入说明"}

    [template] = [c for c in await admin.press(menu, "下载模板") if c.method == "sendDocument"]
    assert template.filename == "台账模板.xlsx"
    assert sheet(template) == [list(HEADERS)]
    assert "填写说明" in load_workbook(io.BytesIO(template.document)).sheetnames

    [export] = [c for c in await admin.press(menu, "导出台账") if c.method == "sendDocument"]
    assert export.filename.startswith("政务新媒体台账-") and "共 1 个账号" in export.text
    rows = sheet(export)
    assert rows[0] == list(HEADERS)
    assert rows[1][:6] == ["某区教育局", "微博", "教育微博", "ref-教育微博", "李老师", 2]

    help_text = (await admin.press(menu, "导入说明"))[-1].text
    assert "只导入无误的行" in help_text


async def test_a_clean_file_is_imported_and_the_invited_person_takes_over(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    data = ledger_workbook(
        [
            line("某区教育局", "微信公众号", "教育发布", "jy_fabu", "李老师"),
            line("某街道办", "微博", "街道<发布>", "jd_wb", "王五"),
        ]
    )
    reply = (await admin.send_document(data, "台账.xlsx"))[-1].text
    assert "✅ 台账已导入：新增账号 2 个" in reply and "新增单位 1 个：某街道办" in reply
    assert "王五（某街道办，1 个账号" in reply
    token = re.search(r"\?start=([\w-]+)", reply).group(1)
    accounts = {a.name: a for a in await _accounts(app)}
    assert accounts["街道<发布>"].responsible_id is None

    newcomer = tg.user(3003, "王五")
    joined = (await newcomer.send(f"/start {token}"))[-1].text
    assert "你已是以下账号的责任人：街道&lt;发布&gt;（微博）" in joined
    async with app.sessionmaker() as session:
        account = await session.get(Account, accounts["街道<发布>"].id)
        unit = (await session.exec(select(Unit).where(Unit.name == "某街道办"))).one()
    assert account.responsible_invitation_id is None and account.responsible_id is not None
    assert account.unit_id == unit.id


@pytest.mark.both_backends
async def test_a_file_with_problems_changes_nothing_until_valid_rows_are_chosen(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    data = ledger_workbook(
        [
            line("某区教育局", "微信公众号", "教育发布", "jy_fabu", "李老师"),
            line("某区教育局", "推特", "教育<推特>", "jy_tw", "李老师"),
        ]
    )
    report = (await admin.send_document(data, "台账.xlsx"))[-1]
    assert "❌ 台账未导入" in report.text and "共 2 行，其中 1 行有问题" in report.text
    assert "第 3 行 · 平台（推特）：无法识别的平台“推特”" in report.text
    assert await _accounts(app) == []

    done = (await admin.press(report, "仅导入 1 行有效数据"))[-1].text
    assert "✅ 台账已导入：新增账号 1 个" in done and "未导入有问题的 1 行" in done
    assert [a.name for a in await _accounts(app)] == ["教育发布"]
    stale = await admin.press(report, "仅导入 1 行有效数据")
    assert "失效" in stale[-1].params.get("text", "") or "过期" in stale[-1].params.get("text", "")
    assert len(await _accounts(app)) == 1


async def test_many_problems_come_with_an_error_workbook(app, tg: FakeTelegram, clock) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    rows = [line(f"单位{n}", "推特", f"账号{n}", f"ref{n}", "某人", 0) for n in range(12)]
    replies = await admin.send_document(ledger_workbook(rows), "台账.xlsx")
    text = replies[0].text
    assert "共 12 行，其中 12 行有问题（24 处）" in text and "另有 9 处" in text
    assert "仅导入" not in str(replies[0].buttons)
    [report] = [c for c in replies if c.method == "sendDocument"]
    assert report.filename == "台账错误清单.xlsx"
    cells = sheet(report, "错误清单")
    assert cells[0] == ["行号", "列", "填写内容", "问题"] and len(cells) == 25
    assert cells[1][:3] == [2, "平台", "推特"] and cells[1][3].startswith("无法识别的平台")


async def test_a_gbk_csv_saved_by_excel_imports(app, tg: FakeTelegram, clock) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [list(HEADERS), line("某区教育局", "抖音", "教育抖音", "jy_dy", "李老师")]
    )
    reply = (await admin.send_document(buffer.getvalue().encode("gbk"), "台账.csv"))[-1].text
    assert "✅ 台账已导入：新增账号 1 个" in reply
    [account] = await _accounts(app)
    assert (account.name, account.platform) == ("教育抖音", "douyin")


async def test_unusable_files_get_a_clear_message_and_change_nothing(app, tg: FakeTelegram) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    assert (
        "文件可能已损坏" in (await admin.send_document(b"PK\x03\x04broken", "台账.xlsx"))[-1].text
    )
    assert "编码" in (await admin.send_document(bytes(range(128, 256)) * 4, "台账.csv"))[-1].text
    assert (
        "找不到台账表头"
        in (await admin.send_document("名称,备注\n甲,乙\n".encode(), "a.csv"))[-1].text
    )
    mark = tg.mark()
    big = await admin.send_document(b"x", "台账.xlsx", file_size=6 * 1024 * 1024)
    assert "不能超过 5 MB" in big[-1].text
    assert not [c for c in tg.calls[mark:] if c.method == "getFile"], "refused before downloading"
    assert await _accounts(app) == []


async def test_only_admins_import_and_managers_export_their_own_unit(
    app, tg: FakeTelegram, clock
) -> None:
    unit, teacher = await _office(app, clock)
    other = await seed_unit(app.sessionmaker, "某街道办", clock.now())
    clerk = await seed_person(
        app.sessionmaker,
        telegram_id=2004,
        name="赵六",
        unit_id=other,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    await seed_person(
        app.sessionmaker,
        telegram_id=2003,
        name="钱主任",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    await tg.user(ADMIN_ID, "王主任").send("/start")
    for unit_id, person, name in ((unit, teacher, "教育微博"), (other, clerk, "街道微博")):
        await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit_id,
            responsible_id=person,
            name=name,
            now=clock.now(),
        )
    manager = tg.user(2003, "钱主任")
    data = ledger_workbook([line("某区教育局", "抖音", "教育抖音", "jy_dy", "李老师")])
    assert "只有管理员可以导入台账" in (await manager.send_document(data, "台账.xlsx"))[-1].text
    assert len(await _accounts(app)) == 2

    menu = (await manager.send("/ledger"))[-1]
    assert "导入说明" not in str(menu.buttons)
    [export] = [c for c in await manager.press(menu, "导出台账") if c.method == "sendDocument"]
    assert [r[2] for r in sheet(export)[1:]] == ["教育微博"]

    assert "只有管理员和单位管理员" in (await tg.user(2002, "李老师").send("/ledger"))[-1].text


async def test_an_edited_export_is_shown_as_a_diff_and_applied_on_confirmation(
    app, tg: FakeTelegram, clock
) -> None:
    await _office(app, clock)
    admin = tg.user(ADMIN_ID, "王主任")
    original = [
        line("某区教育局", "微信公众号", "教育发布", "jy_fabu", "李老师"),
        line("某区教育局", "微博", "教育微博", "jy_wb", "李老师"),
    ]
    assert (
        "新增账号 2 个"
        in (await admin.send_document(ledger_workbook(original), "台账.xlsx"))[-1].text
    )
    menu = (await admin.send("/ledger"))[-1]
    [export] = [c for c in await admin.press(menu, "导出台账") if c.method == "sendDocument"]
    rows = sheet(export)[1:]
    rows[0][1], rows[0][5] = "微信", 5  # an alias and a new plan
    rows[1][10], rows[1][11] = "暂停", "人员调整，暂停更新一个月"
    replies = await admin.send_document(ledger_workbook(rows), "台账-修改.xlsx")
    text = next(c.text for c in replies if c.method == "sendMessage" and "📝" in c.text)
    assert "同一平台账号不能重复登记" not in text and "同平台多账号理由" not in text
    assert "第 2 行 教育发布（微信公众号 jy_fabu）：每周计划发布条数 3 → 5" in text
    assert "第 3 行 教育微博（微博 jy_wb）：状态 在用 → 暂停；状态说明 （空） → 人员调整" in text
    assert "“微信” → 微信公众号" in text
    changes = next(c for c in replies if c.method == "sendDocument")
    assert changes.filename == "台账变更清单.xlsx" and len(sheet(changes, "账号变更")) == 4
    assert {a.posts_per_week for a in await _accounts(app)} == {3}  # nothing changed yet

    question = next(c for c in replies if c.method == "sendMessage" and "📝" in c.text)
    done = (await admin.press(question, "确认应用"))[-1].text
    assert "✅ 台账已导入：新增账号 0 个，修改账号 2 个" in done
    accounts = {a.platform_ref: a for a in await _accounts(app)}
    assert accounts["jy_fabu"].posts_per_week == 5 and accounts["jy_wb"].status == "suspended"
