"""The inspector's run: a mixed 48-row ledger audited against a local feed farm.

    .venv/bin/python bench/audit_mixed.py                 # current quarter, inspection, charts
    .venv/bin/python bench/audit_mixed.py --period last_quarter
    .venv/bin/python bench/audit_mixed.py --keep out/     # keep the workbook, charts and PDF

The ledger has 37 good rows and 11 bad ones (unknown platform, missing responsible person,
duplicate platform id, posts per week out of range, a bad feed URL, …). The 35 feeds with a
feed URL are served on 127.0.0.1 by the test suite's feed server: fresh accounts, accounts silent
for 10/20/70 days, a 404, a 500, a truncated XML document, an empty 200 answer, a feed with no
item, a feed that times out, a feed on 127.0.0.2 (refused by the SSRF guard before any
connection: only 127.0.0.1 is allowed), gambling spam, an ID number, an unreplaced template
placeholder and a hidden link; two good rows have no feed at all.

It runs ``python -m bot audit`` exactly as an inspector would (its own process, a throwaway
database), then reads the workbook back and prints: the totals of 概况, the verdict counts
(合格 / 不合格 / 无法评估) with the faults, whether every total equals the sum of its detail
rows, and the printed page count of the workbook as delivered and of the same workbook with the
print setup removed (portrait, no fitting: what the report printed before), both converted by
LibreOffice headless when it is installed. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import load_workbook
from openpyxl.worksheet.properties import PageSetupProperties

from documents.ledgerbook import ledger_workbook
from documents.pdf import converter, page_count, to_pdf
from tests.fakes.feeds import FakeItem, FeedServer

ROOT = Path(__file__).resolve().parent.parent
NECESSITY = "发布本单位政务信息，回应群众关切，提供办事服务。"
PLAN = "每周两到三条：政策解读、通知公告、工作动态；办公室编辑，分管领导审核。"
UNITS = ["区教育局", "区卫健委", "某街道办", "区文旅局", "区应急局", "区医保局", "区司法局"]
PLATFORMS = ["微信公众号", "微博", "抖音", "今日头条", "快手", "B站", "小红书"]
GAMBLING = (
    '<div style="display:none"><a href="http://bet-365-vip.example.com">'
    "澳门葡京赌场官网，注册就送88元</a></div>"
)
HIDDEN = '<a href="http://cheap-pills.example.net" style="display:none">便宜</a>'
RSS_HEAD = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'


def _items(key: str, days: list[float], now: datetime, body: str = "") -> list[FakeItem]:
    return [
        FakeItem(
            f"{key}工作动态{i}",
            f"https://example.gov.cn/{key}/{i}",
            f"{key}-{i}",
            now - timedelta(days=d),
            body=f"<p>我单位扎实推进各项工作。第{i}期。</p>{body if i == 0 else ''}",
        )
        for i, d in enumerate(days)
    ]


def farm(server: FeedServer, now: datetime) -> list[tuple[str, str]]:
    """35 feeds: (kind, URL)."""
    feeds: list[tuple[str, str]] = []

    def feed(kind: str, items: list[FakeItem]) -> None:
        name = f"f{len(feeds)}"
        server.set_feed(name, items)
        feeds.append((kind, server.feed_url(name)))

    for i in range(15):
        feed("正常", _items(f"a{i}", [0.5 + i % 3, 3, 6, 9, 13, 18, 24], now))
    for days in (10, 20, 70):
        for i in range(3):
            feed(f"{days}天未更新", _items(f"d{days}{i}", [days + i * 0.2, days + 5], now))
    feed("涉赌", _items("g", [1, 4, 8], now, GAMBLING))
    feed("身份证号", _items("p", [2, 5], now, "<p>联系人身份证号110101199003074514。</p>"))
    feed(
        "模板未填写",
        _items("t", [1, 6], now, "<p>联系电话：XXX-XXXXXXXX，地址：【单位名称】。</p>"),
    )
    feed("隐藏链接", _items("h", [2, 7], now, HIDDEN))
    for kind, path, status, body, delay in (
        ("404", "/broken/404", 404, "Not Found", 0.0),
        ("500", "/broken/500", 500, "Internal Server Error", 0.0),
        ("XML 被截断", "/broken/truncated.xml", 200, RSS_HEAD + "<item><title>半", 0.0),
        ("空的 200 响应", "/broken/empty.xml", 200, "", 0.0),
        ("没有条目", "/broken/noitems.xml", 200, RSS_HEAD + "</channel></rss>", 0.0),
        ("超时", "/broken/slow.xml", 200, RSS_HEAD + "</channel></rss>", 8.0),
    ):
        headers = {"Content-Type": "application/rss+xml"}
        url = server.set_response(path, status=status, body=body, headers=headers, delay=delay)
        feeds.append((kind, url))
    feeds.append(("被拒绝的地址", server.feed_url("f0").replace("127.0.0.1", "127.0.0.2")))
    assert len(feeds) == 35, len(feeds)
    return feeds


def ledger_rows(feeds: list[tuple[str, str]]) -> list[list[object]]:
    """37 good rows (35 with feeds, 2 without) and 11 bad ones."""
    rows: list[list[object]] = []
    for i, (kind, url) in enumerate([*feeds, ("无订阅源", ""), ("无订阅源", "")]):
        unit = UNITS[i % len(UNITS)]
        platform = PLATFORMS[(i // len(UNITS)) % len(PLATFORMS)]
        name = f"{unit[1:]}{kind}{i}"[:20]
        rows.append(
            [unit, platform, name, f"acct_{i:03d}", "张三", 2, NECESSITY, PLAN, "", url, "在用", ""]
        )
    good = rows[0]
    bad = [
        [
            "测试单位1",
            "推特",
            "不存在的平台",
            "bad_001",
            "张三",
            2,
            NECESSITY,
            PLAN,
            "",
            "",
            "在用",
            "",
        ],
        ["测试单位2", "微博", "缺责任人", "bad_002", "", 2, NECESSITY, PLAN, "", "", "在用", ""],
        [*good[:3], good[3], *good[4:]],  # the same platform id again
        [
            "测试单位3",
            "微博",
            "频率不对",
            "bad_004",
            "李四",
            0,
            NECESSITY,
            PLAN,
            "",
            "",
            "在用",
            "",
        ],
        [
            "测试单位4",
            "微博",
            "频率太高",
            "bad_005",
            "李四",
            999,
            NECESSITY,
            PLAN,
            "",
            "",
            "在用",
            "",
        ],
        [
            "测试单位5",
            "微博",
            "订阅源不对",
            "bad_006",
            "李四",
            2,
            NECESSITY,
            PLAN,
            "",
            "ftp://x",
            "在用",
            "",
        ],
        ["", "微博", "缺单位", "bad_007", "李四", 2, NECESSITY, PLAN, "", "", "在用", ""],
        ["测试单位6", "微博", "理由太短", "bad_008", "王五", 2, "短", PLAN, "", "", "在用", ""],
        [
            "测试单位7",
            "微博",
            "计划太短",
            "bad_009",
            "王五",
            2,
            NECESSITY,
            "短",
            "",
            "",
            "在用",
            "",
        ],
        [
            "测试单位8",
            "微博",
            "关停无说明",
            "bad_010",
            "王五",
            2,
            NECESSITY,
            PLAN,
            "",
            "",
            "关停",
            "",
        ],
        ["测试单位9", "微博", "", "bad_011", "王五", 2, NECESSITY, PLAN, "", "", "在用", ""],
    ]
    return [*rows, *bad]


def _strip_print_setup(data: bytes) -> bytes:
    """The same workbook as the report used to print: portrait, no fitting, no titles."""
    book = load_workbook(io.BytesIO(data))
    for sheet in book:
        sheet.page_setup.orientation = "portrait"
        sheet.page_setup.fitToWidth = sheet.page_setup.fitToHeight = None
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=False)
        sheet.print_title_rows = None
        sheet.oddHeader.center.text = sheet.oddFooter.left.text = None
        sheet.oddFooter.right.text = None
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rows(book, name: str) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [[c.value for c in r] for r in book[name].iter_rows()]


def check_totals(book) -> list[str]:  # type: ignore[no-untyped-def]
    """Each 概况 total against the detail rows; the mismatches (none expected)."""
    summary = {r[0]: r[1] for r in _rows(book, "概况")}
    accounts = _rows(book, "账号")
    head, rows = accounts[0], accounts[1:]
    units = _rows(book, "单位")
    uhead, urows = units[0], units[1:]
    findings = _rows(book, "问题明细")[1:]
    verdicts = Counter(r[head.index("结论")] for r in rows)
    checks = {
        "账号数": (summary["账号数"], len(rows), sum(r[uhead.index("账号数")] for r in urows)),
        "合格": (summary["合格账号"], verdicts["合格"], sum(r[uhead.index("合格")] for r in urows)),
        "不合格": (
            summary["不合格账号"],
            verdicts["不合格"],
            sum(r[uhead.index("不合格")] for r in urows),
        ),
        "无法评估": (
            summary["无法评估账号"],
            verdicts["无法评估"],
            sum(r[uhead.index("无法评估")] for r in urows),
        ),
        "问题数": (
            summary["问题数"],
            len(findings),
            sum(r[head.index("问题合计")] for r in rows),
            sum(r[uhead.index("问题数")] for r in urows),
        ),
        "期内发布数": (
            summary["期内发布数"],
            sum(r[head.index("期内发布数")] for r in rows),
            sum(r[uhead.index("期内发布数")] for r in urows),
        ),
    }
    return [f"{k}: {v}" for k, v in checks.items() if len(set(v)) != 1]


async def run(period: str, keep: Path | None) -> int:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        async with FeedServer() as server:
            rows = ledger_rows(farm(server, now))
            (work / "台账.xlsx").write_bytes(ledger_workbook(rows))
            env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
            env.update(
                PYTHONPATH=str(ROOT),
                LOG_LEVEL="WARNING",
                ALLOW_PRIVATE_FEEDS="false",
                FEED_ALLOWED_HOSTS="127.0.0.1",
                POLL_TIMEOUT="3",
                POLL_HOST_SPACING_MS="0",
                POLL_PER_HOST="16",
            )
            args = ["台账.xlsx", "--out", "报告.xlsx", "--period", period, "--inspect"]
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "audit", *args, "--seed", "2026", "--ratio", "0.5",
                "--charts", "charts", cwd=work, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=300)
        print(f"$ python -m bot audit {' '.join(args)} --seed 2026 --ratio 0.5 --charts charts")
        print(f"台账：{len(rows)} 行；退出码 {proc.returncode}")
        print(out.decode().rstrip())
        if proc.returncode != 0:
            return 1
        data = (work / "报告.xlsx").read_bytes()
        book = load_workbook(io.BytesIO(data))
        accounts = _rows(book, "账号")
        head = accounts[0]
        verdicts = Counter(r[head.index("结论")] for r in accounts[1:])
        faults = Counter(
            r[head.index("监测源")] for r in accounts[1:] if r[head.index("监测源")] != "正常"
        )
        print(
            "\n结论："
            + "，".join(f"{k} {verdicts.get(k, 0)}" for k in ("合格", "不合格", "无法评估"))
        )
        print("无法读取的订阅源：" + "；".join(f"{k} {v}" for k, v in sorted(faults.items())))
        mismatches = check_totals(book)
        print("各项合计与明细一致：" + ("是" if not mismatches else "否 " + "；".join(mismatches)))
        if converter() is None:
            print("打印页数：未安装 LibreOffice（soffice），无法换算")
            return 0 if not mismatches else 1
        pdf = to_pdf(data, suffix=".xlsx")
        before = to_pdf(_strip_print_setup(data), suffix=".xlsx")
        if pdf is None or before is None:
            print("打印页数：LibreOffice 转换失败")
            return 1
        if keep is not None:
            (work / "报告.pdf").write_bytes(pdf)
        print(
            f"打印页数（LibreOffice 转 PDF）：A4 横向、按宽度缩放 {page_count(pdf)} 页；"
            f"去掉打印设置（纵向、不缩放）{page_count(before)} 页"
        )
        return 0 if not mismatches else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="quarter")
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    options = parser.parse_args()
    return asyncio.run(run(options.period, options.keep))


if __name__ == "__main__":
    raise SystemExit(main())
