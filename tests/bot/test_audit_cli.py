"""``python -m bot audit``: a ledger in, every feed polled once from the local feed server, the
report out; no token, no database, traffic to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from documents.ledgerbook import ledger_workbook
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
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "audit",
        *args,
        cwd=tmp,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=100)
    return proc.returncode or 0, out.decode()


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
    assert edu[col["未更新天数"]] == 0 and edu[col["监测源异常"]] == "否"
    assert edu[col["问题合计"]] == 0 and edu[col["结论"]] == "合格"
    assert street[col["更新状态"]] == "不更新（僵尸号）" and street[col["未更新天数"]] == 20
    assert street[col["涉赌"]] == 1 and street[col["结论"]] == "不合格"
    assert "单项否决：涉赌" in street[col["扣分及否决原因"]]
    assert "单项否决：检查前2周内未更新" in street[col["扣分及否决原因"]]
    assert health[col["监测源异常"]] == "是" and health[col["更新状态"]] == "未知（监测源异常）"
    assert health[col["未更新天数"]] is None  # a broken feed is no evidence of silence
    findings = _sheet(book, "问题明细")
    assert any(r[3] == "涉赌" and r[8] == "https://example.gov.cn/s/1" for r in findings[1:])
    link_row = next(i for i, r in enumerate(findings, start=1) if r[3] == "涉赌")
    assert book["问题明细"].cell(row=link_row, column=9).hyperlink is not None
    inspection = _sheet(book, "抽查")
    assert ["随机种子", 7] in [r[:2] for r in inspection]
    verdicts = {r[2]: r for r in inspection if r[0] and isinstance(r[0], int)}
    assert verdicts["某区教育发布"][5] == "合格"
    assert verdicts["街道微博"][5] == "不合格" and "涉赌" in verdicts["街道微博"][6]
    assert verdicts["健康某区"][5] == "需人工核查"
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
    state = accounts[0].index("监测源异常")
    assert {r[state] for r in accounts[1:]} == {"是"}


async def test_audit_refuses_unreadable_input(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    code, out = await _audit(tmp_path, "x.xlsx", "--out", "r.xlsx")
    assert code == 2 and "无法读取该 Excel 文件" in out
    code, out = await _audit(tmp_path, "x.xlsx", "--out", "r.xlsx", "--period", "2026-13-01~x")
    assert code == 2 and "日期格式不对" in out
