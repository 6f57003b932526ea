"""The report workbook: one model behind every total, masked data, print-ready sheets."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from documents.reportbook import report_workbook
from documents.reporttext import summary_lines
from governance.activity import PollHealth
from governance.evidence import Fault, FeedReading
from governance.inspection import inspect
from governance.periods import period_for
from governance.reporting import AccountInput, FindingInput, build_report
from governance.scoring import load_rules
from governance.vocabulary import CATEGORY_LABELS, CONTENT_CATEGORIES

TZ = ZoneInfo("Asia/Shanghai")
RULES = load_rules()
TODAY = date(2026, 5, 20)
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ID_NUMBER = "110101199003074514"
PHONE = "13812345678"


def _account(id_: int, unit: str, days: list[int], **extra: object) -> AccountInput:
    values: dict[str, object] = {
        "id": id_,
        "name": f"账号{id_}",
        "unit": unit,
        "platform": "weibo",
        "status": "active",
        "registered_at": NOW - 400 * DAY,
        "planned_per_week": 2,
        "post_times": [NOW - d * DAY for d in days],
        "poll_health": PollHealth(NOW),
        "registered_known": False,
        "oldest_seen": NOW - max(days, default=0) * DAY if days else None,
    } | extra
    return AccountInput(**values)  # type: ignore[arg-type]


def _finding(account_id: int, category: str, severity: str, key: str, text: str) -> FindingInput:
    return FindingInput(
        account_id,
        category,
        severity,
        key,
        text,
        f"……联系人电话 {PHONE}，{text}……",
        f"通知（咨询 {PHONE}）",
        f"https://example.gov.cn/{key}",
        NOW - DAY,
        "open",
        NOW - 2 * DAY,
    )


def mixed_report():  # type: ignore[no-untyped-def]
    """Fresh, 10/20/70-day, broken, no-item, past-coverage and content-problem accounts."""
    units = ["区教育局", "区卫健委", "某街道办", "区文旅局", "区应急局", "区医保局", "区司法局"]
    accounts = []
    for i in range(48):
        unit = units[i % len(units)]
        kind = i % 8
        if kind == 0:
            accounts.append(_account(i + 1, unit, [1, 3, 5, 9, 12]))
        elif kind == 1:
            accounts.append(_account(i + 1, unit, [10, 30]))
        elif kind == 2:
            accounts.append(_account(i + 1, unit, [20, 50]))
        elif kind == 3:
            accounts.append(_account(i + 1, unit, [70]))
        elif kind == 4:
            fault = [Fault.HTTP, Fault.REFUSED, Fault.MALFORMED, Fault.NO_FEED][i % 4]
            accounts.append(_account(i + 1, unit, [], reading=FeedReading(fault, 404)))
        elif kind == 5:
            accounts.append(_account(i + 1, unit, []))  # a feed with no items
        else:
            accounts.append(_account(i + 1, unit, [1, 2, 4, 6]))
    findings = []
    for i in range(6, 48, 8):  # content problems on the last kind, some repeated
        findings += [
            _finding(i + 1, "gambling", "veto", f"g{i}", "澳门葡京赌场"),
            _finding(i + 1, "gambling", "veto", f"g{i}", "澳门葡京赌场"),
            _finding(i + 1, "pii", "veto", f"p{i}", ID_NUMBER),
            _finding(i + 1, "typo", "general", f"t{i}", "截止目前"),
        ]
    report = build_report(
        accounts,
        findings,
        period=period_for("quarter", TODAY),
        scope="全部单位",
        now=NOW,
        tz=TZ,
        rules=RULES,
    )
    return inspect(report, open_vetoes={}, seed=7, rules=RULES, tz=TZ, ratio=0.5)


def _rows(book, name: str) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [[c.value for c in r] for r in book[name].iter_rows()]


def test_every_total_equals_the_sum_of_its_detail_rows() -> None:
    report = mixed_report()
    book = load_workbook(io.BytesIO(report_workbook(report, tz=TZ)))
    summary = {r[0]: r[1] for r in _rows(book, "概况")}
    accounts = _rows(book, "账号")
    head, rows = accounts[0], accounts[1:]
    units = _rows(book, "单位")
    uhead, urows = units[0], units[1:]
    problems = _rows(book, "问题明细")
    phead, prows = problems[0], problems[1:]

    def col(name: str) -> list[object]:
        return [r[head.index(name)] for r in rows]

    def ucol(name: str) -> int:
        return sum(int(r[uhead.index(name)]) for r in urows)  # type: ignore[call-overload]

    verdicts = Counter(col("结论"))
    assert summary["账号数"] == len(rows) == ucol("账号数") == 48
    pairs = (("合格", "合格账号"), ("不合格", "不合格账号"), ("无法评估", "无法评估账号"))
    for label, key in pairs:
        assert summary[key] == verdicts[label] == ucol(label)
    assert verdicts["无法评估"] == 12  # 6 unreadable feeds + 6 feeds with no item, no date
    assert summary["期内发布数"] == sum(col("期内发布数")) == ucol("期内发布数")  # type: ignore[arg-type]
    assert summary["问题数"] == len(prows) == sum(col("问题合计")) == ucol("问题数")  # type: ignore[arg-type]
    assert summary["问题数"] == sum(report.categories.values())  # the chart's bars
    by_category = Counter(r[phead.index("类别")] for r in prows)
    for category in CONTENT_CATEGORIES:
        label = CATEGORY_LABELS[category]
        expected = report.categories.get(category, 0)
        assert sum(col(label)) == by_category.get(label, 0) == expected  # type: ignore[arg-type]
    assert summary["其中单项否决问题"] == sum(
        1 for r in prows if r[phead.index("严重程度")] == "单项否决"
    )
    states = Counter(col("更新状态"))
    for label in ("正常更新", "更新预警", "不更新（僵尸号）", "建议关停", "无法判断"):
        assert summary[label] == states[label]
    assert ucol("不更新账号数") == states["不更新（僵尸号）"] + states["建议关停"]
    scored = [r for r in rows if r[head.index("结论")] != "无法评估"]
    assert all(r[head.index("得分")] is not None for r in scored)
    assert all(r[head.index("得分")] is None for r in rows if r not in scored)
    inspection = {r[0]: r[1] for r in _rows(book, "抽查")[:10]}
    sampled = [v.outcome for v in report.inspection.verdicts]
    assert inspection["无法评估"] == sampled.count("unassessable")
    text = "\n".join(summary_lines(report))
    assert f"无法评估 {summary['无法评估账号']} 个" in text
    assert f"发现问题 {summary['问题数']} 个" in text


def test_personal_data_is_masked_in_every_sheet_and_message() -> None:
    report = mixed_report()
    book = load_workbook(io.BytesIO(report_workbook(report, tz=TZ)))
    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value]
    assert not any(ID_NUMBER in c or PHONE in c for c in cells)
    assert any("11*************514" in c for c in cells) and any("138****5678" in c for c in cells)
    assert not any(PHONE in line for line in summary_lines(report))


def test_every_sheet_prints_on_a4_landscape_with_titles_and_headers() -> None:
    report = mixed_report()
    book = load_workbook(io.BytesIO(report_workbook(report, tz=TZ, charts=[])))
    for sheet in book:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert setup.fitToWidth == 1 and setup.fitToHeight == 0
        assert "政务新媒体监测报告" in sheet.oddHeader.center.text
        assert "2026-04-01 ~ 2026-05-20" in sheet.oddFooter.left.text
    for name in ("账号", "单位", "问题明细"):
        assert book[name].print_title_rows == "$1:$1"
        assert book[name].freeze_panes is not None
    assert book["账号"].freeze_panes == "D2"  # names stay beside their deductions
    widths = book["账号"].column_dimensions
    assert widths["C"].width >= 8  # "账号名称" is four wide characters
    assert book["抽查"].print_title_rows == "$12:$12"
