"""Ledger rules and files: every row checked, nothing assumed, files read whatever Excel saved."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from documents.ledgerbook import ledger_workbook, read_table, table_workbook
from governance.errors import InvalidInput
from governance.ledger import Existing, Validation, validate_table
from governance.ledgertable import HEADERS, MAX_ROWS, cell_text
from governance.registry import PLATFORM_LABELS, STATUS_LABELS

NECESSITY = "发布教育政策和招生信息，回应家长关切。"
PLAN = "每周三条：政策解读、招生通知、校园动态；办公室编辑，分管领导审核。"


def row(**overrides: object) -> list[object]:
    values: dict[str, object] = {
        "单位": "某区教育局",
        "平台": "微信公众号",
        "账号名称": "某区教育发布",
        "平台账号ID或主页": "jiaoyu_fabu",
        "责任人": "李老师",
        "每周计划发布条数": 3,
        "开设理由": NECESSITY,
        "运营计划": PLAN,
        "同平台多账号理由": "",
        "订阅源地址": "",
        "状态": "",
        "状态说明": "",
    }
    values.update({k.replace("_", ""): v for k, v in overrides.items()})
    return [values[h] for h in HEADERS]


def check(*rows: list[object], existing: Existing | None = None) -> Validation:
    return validate_table([list(HEADERS), *rows], existing or Existing())


def problems(validation: Validation) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, str(p.error)) for p in validation.problems]


def test_a_clean_table_yields_typed_rows() -> None:
    result = check(
        row(), row(平台="微博", 平台账号ID或主页="https://weibo.com/jy", 每周计划发布条数="5")
    )
    assert result.clean and result.total == 2
    first, second = result.rows
    assert (first.row, first.platform.value, first.status.value) == (2, "wechat", "active")
    assert (second.platform.value, second.posts_per_week) == ("weibo", 5)
    assert first.cells() == (
        "某区教育局", "微信公众号", "某区教育发布", "jiaoyu_fabu", "李老师", 3,
        NECESSITY, PLAN, "", "", "在用", "",
    )  # fmt: skip


def test_every_problem_of_every_row_is_reported_with_row_and_column() -> None:
    result = check(
        row(),
        row(平台="推特", 每周计划发布条数=0, 开设理由="太短", 平台账号ID或主页="b"),
        row(账号名称="", 订阅源地址="ftp://x", 平台账号ID或主页="c2"),
        row(状态="关停", 平台账号ID或主页="d4"),
    )
    found = problems(result)
    assert [r.row for r in result.rows] == [2]
    assert result.bad_rows == 3
    assert (
        3,
        "平台",
        "无法识别的平台“推特”，可填：" + "、".join(PLATFORM_LABELS.values()) + "。",
    ) in found
    assert any(r == 3 and c == "每周计划发布条数" and "至少" in m for r, c, m in found)
    assert any(r == 3 and c == "开设理由" and "至少需要 10 个字" in m for r, c, m in found)
    assert any(r == 3 and c == "平台账号ID或主页" for r, c, m in found)
    assert any(r == 4 and c == "账号名称" and m == "必填项，不能为空。" for r, c, m in found)
    assert any(r == 4 and c == "订阅源地址" and "http" in m for r, c, m in found)
    assert (5, "状态说明", "状态为“关停”时须填写状态说明。") in found


def test_one_platform_id_once_in_the_file_and_against_the_registry() -> None:
    existing = Existing(refs={("weibo", "weibo.com/taken"): ("已登记的号", 7)})
    result = check(
        row(),
        row(单位="某街道办", 平台账号ID或主页="JIAOYU_FABU"),
        row(单位="某街道办", 平台="微博", 平台账号ID或主页="https://www.weibo.com/taken/"),
        existing=existing,
    )
    found = problems(result)
    assert (3, "平台账号ID或主页", "与第 2 行是同一平台账号，同一平台账号不能重复登记。") in found
    assert any(r == 4 and "已登记为“已登记的号”（编号 7）" in m for r, c, m in found)
    assert [r.row for r in result.rows] == [2]


def test_a_second_account_of_a_unit_on_a_platform_needs_a_reason() -> None:
    existing = Existing(unit_platforms={("某街道办", "weibo"): "街道微博"})
    result = check(
        row(),
        row(账号名称="教育二号", 平台账号ID或主页="jy2"),
        row(账号名称="教育三号", 平台账号ID或主页="jy3", 同平台多账号理由="面向家长的专题服务账号"),
        row(单位="某街道办", 平台="微博", 平台账号ID或主页="jd2"),
        row(单位="某区教育局", 平台账号ID或主页="old", 状态="注销", 状态说明="已整合到主账号"),
        existing=existing,
    )
    found = problems(result)
    assert [(r, c) for r, c, _ in found] == [(3, "同平台多账号理由"), (5, "同平台多账号理由")]
    assert "第 2 行已是该单位的微信公众号账号" in found[0][2]
    assert "已有账号“街道微博”" in found[1][2]
    assert [r.row for r in result.rows] == [2, 4, 6]  # a closed account takes no slot


def test_rows_already_registered_are_skipped_not_refused() -> None:
    good = check(row()).rows[0]
    existing = Existing(
        refs={("wechat", "jiaoyu_fabu"): ("某区教育发布", 1)},
        unit_platforms={("某区教育局", "wechat"): "某区教育发布"},
        registered=frozenset({good.cells()}),
    )
    result = check(row(), existing=existing)
    assert result.clean and result.unchanged == [2] and result.rows == []
    changed = check(row(每周计划发布条数=4), existing=existing)
    assert "已登记" in problems(changed)[0][2]


def test_an_ambiguous_responsible_name_is_refused() -> None:
    result = check(row(), existing=Existing(people={("某区教育局", "李老师"): 2}))
    assert problems(result) == [
        (2, "责任人", "单位“某区教育局”中有 2 人名为“李老师”，无法确定责任人，请在机器人中登记。")
    ]


def test_header_is_found_by_name_in_any_order_and_missing_ones_are_named() -> None:
    header = ["序号", "平台名称", "单位名称", *HEADERS[2:]]
    data = row()
    shuffled = ["1", data[1], data[0], *data[2:]]
    result = validate_table([["某区政务新媒体台账"], header, shuffled], Existing())
    assert result.clean and result.rows[0].row == 3 and result.rows[0].unit == "某区教育局"
    with pytest.raises(InvalidInput) as caught:
        validate_table([["单位", "平台", "账号名称"], ["a", "b", "c"]], Existing())
    assert "平台账号ID或主页" in str(caught.value) and "责任人" in str(caught.value)
    with pytest.raises(InvalidInput, match="没有数据行"):
        validate_table([list(HEADERS), [""] * len(HEADERS)], Existing())


def test_row_cap() -> None:
    with pytest.raises(InvalidInput, match=f"最多 {MAX_ROWS} 行"):
        validate_table([list(HEADERS), *([row()] * (MAX_ROWS + 1))], Existing())


def test_platform_aliases_and_codes_and_status_names() -> None:
    result = check(
        row(平台="微信", 平台账号ID或主页="a1"),
        row(平台="bilibili", 平台账号ID或主页="a2"),
        row(平台="新浪微博", 平台账号ID或主页="a3", 状态="暂停", 状态说明="人员调整，暂停更新"),
    )
    assert [(r.platform.value, r.status.value) for r in result.rows] == [
        ("wechat", "active"),
        ("bilibili", "active"),
        ("weibo", "suspended"),
    ]


# --- files ----------------------------------------------------------------------------------


def _csv(rows: list[list[object]], encoding: str, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("gbk", ","), ("utf-8-sig", ","), ("utf-8", ","), ("utf-16", "\t"), ("gb18030", ",")],
)
def test_csv_as_excel_saves_it(encoding: str, delimiter: str) -> None:
    multi = row(运营计划=PLAN + "\n第二行：每月一次专题。", 单位="某街道办", 平台账号ID或主页="jd")
    table = read_table(_csv([list(HEADERS), row(), multi], encoding, delimiter), "台账.csv")
    result = validate_table(table, Existing())
    assert result.total == 2 and result.rows[0].unit == "某区教育局"
    assert result.rows[1].operating_plan.endswith("第二行：每月一次专题。")


def test_unreadable_files_get_a_clear_message() -> None:
    with pytest.raises(InvalidInput, match="编码"):
        read_table(bytes(range(128, 256)) * 20, "x.csv")
    with pytest.raises(InvalidInput, match="旧版"):
        read_table(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "台账.xls")
    with pytest.raises(InvalidInput, match="损坏"):
        read_table(b"PK\x03\x04garbage", "台账.xlsx")
    with pytest.raises(InvalidInput, match="损坏"):
        read_table(b"plain text", "台账.xlsx")
    with pytest.raises(InvalidInput, match="文件格式"):
        read_table(b"%PDF-1.4", "通知.pdf")
    with pytest.raises(InvalidInput, match="不能超过 5 MB"):
        read_table(b"a" * (5 * 1024 * 1024 + 1), "big.csv")


def test_zip_bomb_is_refused_before_parsing() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (70 * 1024 * 1024))
    with pytest.raises(InvalidInput, match="解压后过大"):
        read_table(buffer.getvalue(), "bomb.xlsx")


def test_written_text_never_becomes_a_formula_and_reads_back_unchanged() -> None:
    tricky = row(账号名称='=HYPERLINK("http://x")', 平台账号ID或主页="12345678901234567890")
    table = read_table(ledger_workbook([tricky]), "台账.xlsx")
    assert table[1][:4] == [
        "某区教育局",
        "微信公众号",
        '=HYPERLINK("http://x")',
        "12345678901234567890",
    ]
    book = load_workbook(io.BytesIO(ledger_workbook([tricky])))
    assert book["台账"]["C2"].data_type == "s"


def test_template_has_the_columns_a_guide_and_drop_downs() -> None:
    book = load_workbook(io.BytesIO(ledger_workbook([])))
    assert book.sheetnames == ["台账", "网站", "填写说明"]
    sheet = book["台账"]
    assert [c.value for c in sheet[1]] == list(HEADERS)
    assert sheet.max_row == 1 and sheet.freeze_panes == "A2"
    lists = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists["B2:B5001"] == '"' + ",".join(PLATFORM_LABELS.values()) + '"'
    assert lists["K2:K5001"] == '"' + ",".join(STATUS_LABELS.values()) + '"'
    assert lists["F2:F5001"] == "1"
    guide = book["填写说明"]
    explained = {
        r[0].value: (r[1].value, r[2].value) for r in guide.iter_rows(min_row=2) if r[0].value
    }
    for header in HEADERS:
        assert header in explained
    assert explained["平台"][0] == "必填" and explained["订阅源地址"][0] == "选填"
    assert "、".join(PLATFORM_LABELS.values()) == explained["可填的平台"][1]
    assert "、".join(STATUS_LABELS.values()) == explained["可填的状态"][1]


def test_template_translates_its_guide_but_keeps_the_chinese_headers() -> None:
    book = load_workbook(io.BytesIO(ledger_workbook([], tr=lambda s: f"<{s}>")))
    assert book.sheetnames == ["台账", "网站", "<填写说明>"]
    assert [c.value for c in book["台账"][1]] == list(HEADERS)


def test_table_workbook() -> None:
    book = load_workbook(
        io.BytesIO(table_workbook("错误清单", ["行号", "问题"], [(3, "=不能为空")]))
    )
    assert [[c.value for c in r] for r in book.active.iter_rows()] == [
        ["行号", "问题"],
        [3, "=不能为空"],
    ]


def test_cells_become_text_the_way_people_typed_them() -> None:
    assert cell_text(None) == "" and cell_text(3.0) == "3" and cell_text(2.5) == "2.5"
    assert cell_text(" 甲\r\n乙\x07 ") == "甲\n乙"
