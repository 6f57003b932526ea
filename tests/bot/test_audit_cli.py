"""``python -m bot audit``: a ledger in, every feed polled once from the local feed server, the
report out; no token, no database, traffic to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook, load_workbook

from documents.ledgerbook import ledger_workbook
from governance.ledgertable import HEADERS
from tests.cli import run_cli
from tests.fakes.feeds import FakeItem, FeedServer

ROOT = Path(__file__).resolve().parents[2]
NECESSITY = "发布教育政策和招生信息，回应家长关切。"
PLAN = "每周三条：政策解读、招生通知、校园动态；办公室编辑，分管领导审核。"
GAMBLING = '<div style="display:none"><a href="http://bet-365-vip.example.com">澳门葡京赌场官网，注册就送88元</a></div>'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def row(unit: str, platform: str, name: str, ref: str, feed: str, per_week: int = 2) -> list:
    return [unit, platform, name, ref, "张三", per_week, NECESSITY, PLAN, "", feed, "在用", ""]


async def _audit(tmp: Path, *args: str, allow_private: bool = True) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env.update(
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
        ALLOW_PRIVATE_FEEDS="true" if allow_private else "false",
        POLL_HOST_SPACING_MS="0",
        POLL_PER_HOST="8",
    )
    # the command runs its own event loop; the feed server keeps answering on this one
    result = await asyncio.to_thread(run_cli, "audit", *args, env=env, cwd=tmp, merge_stderr=True)
    return result.returncode, result.stdout


def _ledger(tmp: Path, feeds: FeedServer) -> Path:
    path = tmp / "台账.xlsx"
    path.write_bytes(
        ledger_workbook(
            [
                row("区教育局", "微信公众号", "某区教育发布", "jy_wx", feeds.feed_url("edu")),
                row("某街道办", "微博", "街道微博", "jd_wb", feeds.feed_url("street")),
                row("区卫健委", "抖音", "健康某区", "wj_dy", feeds.url("/status/500")),
                row("区卫健委", "推特", "不存在的平台", "wj_tw", feeds.feed_url("edu")),
            ]
        )
    )
    return path


def _sheet(book, title: str) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [[c.value for c in r] for r in book[title].iter_rows()]


async def test_audit_polls_a_ledger_and_writes_the_report(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    async with FeedServer() as feeds:
        feeds.set_feed(
            "edu",
            [
                FakeItem(
                    f"教育动态{i}",
                    f"https://example.gov.cn/e/{i}",
                    f"e{i}",
                    now - timedelta(days=i * 3),
                )
                for i in range(5)
            ],
        )
        feeds.set_feed(
            "street",
            [
                FakeItem(
                    "第三季度工作通报",
                    "https://example.gov.cn/s/1",
                    "s1",
                    now - timedelta(days=20),
                    body="<p>我街道完成民生实事。</p>" + GAMBLING,
                )
            ],
        )
        _ledger(tmp_path, feeds)
        code, out = await _audit(
            tmp_path,
            "台账.xlsx",
            "--out",
            "报告.xlsx",
            "--period",
            "quarter",
            "--seed",
            "7",
            "--ratio",
            "1",
            "--charts",
            "charts",
        )
        assert code == 0, out
        assert len(feeds.requests_to("/feeds/edu")) == 1  # polled once
    assert "推特" in out and "未纳入" in out  # the bad row is listed and left out
    assert "已读入账号 3 个" in out and "报告已写入" in out
    book = load_workbook(io.BytesIO((tmp_path / "报告.xlsx").read_bytes()))
    assert book.sheetnames == ["概况", "账号", "单位", "问题明细", "抽查", "图表"]
    accounts = _sheet(book, "账号")
    head = accounts[0]
    col = {name: head.index(name) for name in head}
    by_name = {r[col["账号名称"]]: r for r in accounts[1:]}
    assert set(by_name) == {"某区教育发布", "街道微博", "健康某区"}
    edu, street, health = by_name["某区教育发布"], by_name["街道微博"], by_name["健康某区"]
    assert edu[col["单位"]] == "区教育局" and edu[col["平台"]] == "微信公众号"
    assert edu[col["状态"]] == "在用" and edu[col["更新状态"]] == "正常更新"
    assert edu[col["未更新天数"]] == 0 and edu[col["监测源"]] == "正常"
    assert "最近一条发布" in edu[col["天数依据"]]
    assert edu[col["问题合计"]] == 0 and edu[col["结论"]] == "合格"
    assert street[col["更新状态"]] == "不更新（僵尸号）" and street[col["未更新天数"]] == 20
    assert street[col["涉赌"]] == 1 and street[col["结论"]] == "不合格"
    assert street[col["状态"]] == "在用" and "整改" not in col  # not the audit's own cases
    assert "单项否决：涉赌" in street[col["扣分、否决及说明"]]
    assert "单项否决：检查前2周内未更新" in street[col["扣分、否决及说明"]]
    assert health[col["监测源"]] == "HTTP 500 错误" and health[col["更新状态"]] == "无法判断"
    assert health[col["未更新天数"]] is None  # a broken feed is no evidence of silence
    assert health[col["结论"]] == "无法评估" and health[col["得分"]] is None
    findings = _sheet(book, "问题明细")
    head = findings[0]
    kind, link = head.index("类别"), head.index("链接")
    assert any(r[kind] == "涉赌" and r[link] == "https://example.gov.cn/s/1" for r in findings[1:])
    link_row = next(i for i, r in enumerate(findings, start=1) if r[kind] == "涉赌")
    assert book["问题明细"].cell(row=link_row, column=link + 1).hyperlink is not None
    inspection = _sheet(book, "抽查")
    assert ["随机种子", 7] in [r[:2] for r in inspection]
    verdicts = {r[2]: r for r in inspection if r[0] and isinstance(r[0], int)}
    assert verdicts["某区教育发布"][5] == "合格"
    assert verdicts["街道微博"][5] == "不合格" and "涉赌" in verdicts["街道微博"][6]
    assert verdicts["健康某区"][5] == "无法评估" and "HTTP 500" in verdicts["健康某区"][6]
    for name in ("posts-per-week.png", "accounts-by-state.png", "findings-by-category.png"):
        assert (tmp_path / "charts" / name).read_bytes().startswith(PNG_MAGIC)
    assert len(book["图表"]._images) == 3


async def test_audit_keeps_the_ssrf_guard_on(tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        feeds.set_feed(
            "edu", [FakeItem("教育动态", "https://example.gov.cn/e/1", "e1", datetime.now(UTC))]
        )
        _ledger(tmp_path, feeds)
        code, out = await _audit(tmp_path, "台账.xlsx", "--out", "r.xlsx", allow_private=False)
        assert code == 0, out
        assert feeds.requests_to("/feeds/edu") == []  # 127.0.0.1 refused before any request
    book = load_workbook(io.BytesIO((tmp_path / "r.xlsx").read_bytes()))
    accounts = _sheet(book, "账号")
    feed, verdict = accounts[0].index("监测源"), accounts[0].index("结论")
    assert {r[feed] for r in accounts[1:]} == {"地址被拒绝（内网、保留地址或格式无效）"}
    assert {r[verdict] for r in accounts[1:]} == {"无法评估"}  # never 合格 100


async def test_audit_refuses_unreadable_input(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    code, out = await _audit(tmp_path, "x.xlsx", "--out", "r.xlsx")
    assert code == 2 and "无法读取该 Excel 文件" in out
    code, out = await _audit(tmp_path, "x.xlsx", "--out", "r.xlsx", "--period", "2026-13-01~x")
    assert code == 2 and "日期格式不对" in out


RSS_HEAD = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'


async def test_broken_feeds_are_unassessable_never_dormant(tmp_path: Path) -> None:
    """A truncated document, an empty 200 answer, a feed with no item and a 404: no invented
    silence, no score; and a past quarter the feeds do not reach says 覆盖不足."""
    now = datetime.now(UTC)
    async with FeedServer() as feeds:
        feeds.set_feed(
            "edu", [FakeItem("动态", "https://example.gov.cn/e/1", "e1", now - timedelta(days=2))]
        )
        xml = {"Content-Type": "application/rss+xml"}
        truncated = feeds.set_response("/t.xml", body=RSS_HEAD + "<item><title>半截", headers=xml)
        empty = feeds.set_response("/e.xml", body="", headers=xml)
        no_items = feeds.set_response("/n.xml", body=RSS_HEAD + "</channel></rss>", headers=xml)
        rows = [
            row("区教育局", "微信公众号", "教育发布", "jy", feeds.feed_url("edu")),
            row("甲单位", "微博", "截断的源", "a1", truncated),
            row("乙单位", "微博", "空的源", "b1", empty),
            row("丙单位", "微博", "没有条目的源", "c1", no_items),
            row("丁单位", "微博", "不存在的源", "d1", feeds.url("/status/404")),
            [*row("戊单位", "微博", "开设已久的空源", "e1", no_items), "2025-06-01"],
        ]
        book = Workbook()
        sheet = book.active
        sheet.append([*HEADERS, "开设日期"])  # an inspector's extra column
        for values in rows:
            sheet.append(values)
        book.save(tmp_path / "台账.xlsx")
        code, out = await _audit(tmp_path, "台账.xlsx", "--out", "q.xlsx")
        assert code == 0, out
        code, out_past = await _audit(
            tmp_path, "台账.xlsx", "--out", "past.xlsx", "--period", "last_quarter"
        )
        assert code == 0, out_past
    book = load_workbook(io.BytesIO((tmp_path / "q.xlsx").read_bytes()))
    accounts = _sheet(book, "账号")
    head = accounts[0]
    by_name = {r[head.index("账号名称")]: r for r in accounts[1:]}
    for name in ("截断的源", "空的源", "没有条目的源", "不存在的源"):
        line = by_name[name]
        assert line[head.index("结论")] == "无法评估", name
        assert line[head.index("未更新天数")] is None and line[head.index("得分")] is None
        assert line[head.index("更新状态")] == "无法判断"
    assert "格式错误" in by_name["截断的源"][head.index("监测源")]
    assert by_name["空的源"][head.index("监测源")] == "空响应"
    assert by_name["不存在的源"][head.index("监测源")] == "HTTP 404 错误"
    assert "没有任何条目" in by_name["没有条目的源"][head.index("天数依据")]
    opened = by_name["开设已久的空源"]  # no post, but the ledger says when it opened
    assert "台账开设日期 2025-06-01" in opened[head.index("天数依据")]
    assert opened[head.index("更新状态")] == "建议关停" and opened[head.index("结论")] == "不合格"
    assert "合格 1 个，不合格 1 个，无法评估 4 个" in out
    past = load_workbook(io.BytesIO((tmp_path / "past.xlsx").read_bytes()))
    rows = _sheet(past, "账号")
    edu = next(r for r in rows[1:] if r[rows[0].index("账号名称")] == "教育发布")
    assert edu[rows[0].index("结论")] == "无法评估"  # not 建议关停 for 457 days
    assert "覆盖不足" in edu[rows[0].index("天数依据")]


async def test_audit_reads_the_websites_of_the_ledger(tmp_path: Path) -> None:
    from tests.fakes.sites import Column, SiteFarm, SiteItem

    async with FeedServer() as feeds, SiteFarm() as farm:
        today = farm.today
        news = Column("xwdt", "新闻动态")
        news.items = [
            SiteItem(f"区政府召开常务会议{i}", datetime(today.year, today.month, today.day, 9))
            for i in range(3)
        ]
        farm.add_site("qzf", "某区人民政府", [news])
        feeds.set_feed(
            "edu",
            [FakeItem("教育动态", "https://example.gov.cn/e/1", "e1", datetime.now(UTC))],
        )
        site = ["区教育局", "区教育局网站", farm.home_url("qzf"), "张三"]
        path = tmp_path / "台账.xlsx"
        path.write_bytes(
            ledger_workbook(
                [row("区教育局", "微信公众号", "某区教育发布", "jy_wx", feeds.feed_url("edu"))],
                websites=[[*site, "新闻动态", farm.column_url("qzf", "xwdt"), "动态要闻"]],
            )
        )
        code, out = await _audit(tmp_path, "台账.xlsx", "--out", "报告.xlsx")
    assert code == 0, out
    assert "已读入网站 1 个、栏目 1 个" in out and "已读取网站页面 2 个" in out
    book = load_workbook(io.BytesIO((tmp_path / "报告.xlsx").read_bytes()))
    assert "网站" in book.sheetnames
    head, line = _sheet(book, "网站")
    assert line[2] == "区教育局网站" and line[4] == 1
    assert str(line[head.index("站点无法访问")]).startswith("无法评估：监测不足")
    assert str(line[head.index("首页不更新")]).startswith("未发现")
    assert line[-1] == "无法评估"
    assert [r[2] for r in _sheet(book, "账号")[1:]] == ["某区教育发布"]
