"""/report end to end: the real bot polls the local feed server, then admins and unit managers
ask for reports through buttons; the workbook is opened and read cell by cell."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from governance.inspection import draw_sample
from governance.roles import Role
from models.audit import AuditEntry
from models.outbox import OutboxMessage, OutboxStatus
from models.posts import Post
from models.review_match import ReviewFlag
from tests.conftest import ADMIN_ID
from tests.e2e.monitoring import run_jobs
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.e2e.test_monitoring import MANAGER, office
from tests.fakes.feeds import FakeItem, FeedServer
from tests.fakes.telegram import Call, FakeTelegram

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
HACKED = (
    "<p>我街道完成民生实事。</p>"
    '<div style="display:none"><a href="http://bet-365-vip.example.com">'
    "澳门葡京赌场官网，注册就送88元</a></div>"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def _two_units(app, clock, feeds: FeedServer) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """某区教育局 posts every other day; 某街道办 went silent 20 days ago, on a hacked page."""
    clock.set(NOW - timedelta(days=100))
    feeds.set_feed(
        "acct",
        [
            FakeItem(
                f"教育动态{i}",
                f"https://example.gov.cn/e/{i}",
                f"e{i}",
                NOW - timedelta(days=2 * i + 1),
            )
            for i in range(10)
        ],
    )
    feeds.set_feed(
        "street",
        [
            FakeItem(
                "工作通报",
                "https://example.gov.cn/s/1",
                "s1",
                NOW - timedelta(days=20),
                body=HACKED,
            )
        ],
    )
    _unit, edu = await office(app, clock, feeds)
    street_unit = await seed_unit(app.sessionmaker, "某街道办", clock.now())
    person = await seed_person(
        app.sessionmaker,
        telegram_id=4001,
        name="赵主任",
        unit_id=street_unit,
        roles=(Role.EDITOR,),
        now=clock.now(),
    )
    street = await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=street_unit,
        responsible_id=person,
        name="街道微博",
        feed_url=feeds.feed_url("street"),
        now=clock.now(),
    )
    clock.set(NOW)
    await run_jobs(app, clock)
    await _outbox_sent(app)
    return edu, street


async def _outbox_sent(app) -> None:  # type: ignore[no-untyped-def]
    """Let the alerts of the first poll go out, so they do not land amid the report."""
    await app.idle()
    async with app.sessionmaker() as session:
        pending = await session.exec(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING.value)
        )
        assert pending.first() is None, "the outbox did not drain"


async def _delivered(user, mark: int) -> tuple[Call, Call, list[Call]]:  # type: ignore[no-untyped-def]
    """The report's summary, workbook and charts; alerts the outbox sends meanwhile to the same
    chat (the dormant account, the gambling post) are left aside."""

    def parts() -> tuple[list[Call], list[Call], list[Call]]:
        calls = user.tg.sent_to(user.id, since=mark)
        summaries = [c for c in calls if c.method == "sendMessage" and "时段：" in c.text]
        documents = [c for c in calls if c.method == "sendDocument"]
        photos = [c for c in calls if c.method == "sendPhoto"]
        return summaries, documents, photos

    def complete() -> bool:
        summaries, documents, photos = parts()
        return bool(summaries and documents and len(photos) == 3)

    try:
        await user.tg.until(complete, timeout=20)
    except AssertionError:
        raise AssertionError("the report was not delivered") from None
    summaries, documents, photos = parts()
    return summaries[0], documents[0], photos


def _rows(book, title: str) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [[c.value for c in row] for row in book[title].iter_rows()]


@pytest.mark.both_backends
async def test_admin_gets_a_quarter_report_with_workbook_and_charts(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    edu, street = await _two_units(app, clock, feeds)
    async with app.sessionmaker() as session:  # the poller found a post nobody approved
        post = (await session.exec(select(Post).where(Post.account_id == street))).one()
        session.add(
            ReviewFlag(
                account_id=street,
                post_id=post.id or 0,
                title=post.title,
                link=post.link,
                published_at=post.published_at,
                created_at=NOW,
            )
        )
        await session.commit()
    admin = tg.user(ADMIN_ID, "王主任")
    menu = (await admin.send("/report"))[-1]
    assert "请选择时段" in menu.text
    scope = (await admin.press(menu, "本季度"))[-1]
    assert "时段：2026-01-01 ~ 2026-03-02" in scope.text
    assert [b["text"] for b in scope.buttons] == ["全部单位", "某区教育局", "某街道办"]
    mark = tg.mark()
    await admin.press(scope, "全部单位")
    summary, document, photos = await _delivered(admin, mark)
    assert "政务新媒体报告" in summary.text
    assert "账号 2 个，期内发布 11 条；合格 1 个，不合格 1 个，无法评估 0 个。" in summary.text
    assert "不更新 1 个" in summary.text and "单项否决 1 个" in summary.text
    assert "1. 某区教育局" in summary.text
    assert document.filename == "政务新媒体报告-20260101-20260302.xlsx"
    assert [p.method for p in photos] == ["sendPhoto"] * 3
    assert all(p.photo.startswith(PNG_MAGIC) for p in photos)
    assert [p.text for p in photos] == ["各单位每周发布数", "账号更新状态", "问题类别分布"]

    book = load_workbook(io.BytesIO(document.document))
    assert book.sheetnames == ["概况", "账号", "单位", "问题明细", "图表"]
    summary_sheet = dict((r[0], r[1]) for r in _rows(book, "概况"))
    assert summary_sheet["统计时段"] == "2026-01-01 ~ 2026-03-02"
    assert summary_sheet["范围"] == "全部单位"
    assert summary_sheet["账号数"] == 2 and summary_sheet["合格账号"] == 1
    assert summary_sheet["不更新（僵尸号）"] == 1 and summary_sheet["正常更新"] == 1

    accounts = _rows(book, "账号")
    assert accounts[0][:12] == [
        "编号", "单位", "账号名称", "平台", "状态", "期内发布数", "最长间隔（天）",
        "未更新天数", "天数依据", "更新状态", "低于承诺频率", "监测源",
    ]  # fmt: skip
    basis = accounts[0].index("天数依据")
    assert accounts[1][basis].startswith("最近一条发布")
    for row in accounts[1:]:
        del row[basis]
    head = accounts[0]
    assert head[-6:] == ["送审稿", "审核通过", "未经审核发布", "得分", "结论", "扣分、否决及说明"]
    first, second = accounts[1], accounts[2]
    assert first[:11] == [
        edu,
        "某区教育局",
        "某区教育发布",
        "微博",
        "在用",
        10,
        41.4,
        1,
        "正常更新",
        "否",
        "正常",
    ]
    head = [h for h in head if h != "天数依据"]
    assert first[head.index("问题合计")] == 0
    assert first[head.index("得分")] == 100 and first[head.index("结论")] == "合格"
    assert second[:11] == [
        street,
        "某街道办",
        "街道微博",
        "微博",
        "整改中",  # dormant with a veto problem: its rectification cases are open
        1,
        40.4,
        20,
        "不更新（僵尸号）",
        "是",
        "正常",
    ]
    assert second[head.index("未经审核发布")] == 1 and first[head.index("未经审核发布")] == 0
    assert second[head.index("送审稿")] == 0
    # cases opened in the period (this one's opened on the day after it): the column is there
    assert head.index("整改") < head.index("送审稿") and second[head.index("整改")] == 0
    assert second[head.index("涉赌")] == 1 and second[head.index("个人信息泄露")] == 0
    assert second[head.index("结论")] == "不合格"
    assert second[head.index("隐藏链接")] == 1 and second[head.index("问题合计")] == 2
    assert second[head.index("得分")] == 0  # 100 − 40 − 10 − 40 − 10
    assert second[head.index("扣分、否决及说明")] == (
        "单项否决：检查前2周内未更新；单项否决：涉赌；超过2周未更新（不更新） −40；"
        "低于承诺的更新频率 −10；涉赌 1 处 −40；隐藏链接 1 处 −10"
    )
    assert _rows(book, "单位") == [
        [
            "排名",
            "单位",
            "账号数",
            "合格",
            "不合格",
            "无法评估",
            "期内发布数",
            "问题数",
            "不更新账号数",
            "平均分（已评分账号）",
        ],
        [1, "某区教育局", 1, 1, 0, 0, 10, 0, 0, 100],
        [2, "某街道办", 1, 0, 1, 0, 1, 2, 1, 0],
    ]
    findings = _rows(book, "问题明细")
    assert findings[1][2:6] == ["某街道办", "街道微博", "涉赌", "单项否决"]
    assert findings[1][0] != "—"  # the post's publish time beside the detection time
    assert findings[1][8:] == [1, "工作通报", "https://example.gov.cn/s/1", "未处理"]
    assert findings[2][2:6] == ["某街道办", "街道微博", "隐藏链接", "严重"]
    assert book["问题明细"]["K2"].hyperlink.target == "https://example.gov.cn/s/1"
    assert len(book["图表"]._images) == 3


async def test_unit_manager_reports_on_their_unit_only(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    await _two_units(app, clock, feeds)
    manager = tg.user(MANAGER, "张科长")
    menu = (await manager.send("/report"))[-1]
    scope = (await manager.press(menu, "本月"))[-1]
    assert [b["text"] for b in scope.buttons] == ["某区教育局"]
    forged = scope.buttons[0]["callback_data"].rsplit(":", 1)[0] + ":0"  # "every unit"
    refused = await manager.press_data(scope, forged)
    assert any("单位管理员只能生成本单位的报告" in (c.params.get("text") or "") for c in refused)
    start = scope.buttons[0]["callback_data"].split(":")[2]
    stale = await manager.press_data(
        scope, scope.buttons[0]["callback_data"].replace(start, "20261399")
    )
    assert any("这个按钮已失效" in (c.params.get("text") or "") for c in stale)
    mark = tg.mark()
    await manager.press(scope, "某区教育局")
    summary, document, _charts = await _delivered(manager, mark)
    assert "范围：某区教育局" in summary.text
    accounts = _rows(load_workbook(io.BytesIO(document.document)), "账号")
    assert [r[2] for r in accounts[1:]] == ["某区教育发布"]
    stranger = await tg.user(9999, "路人").send("/report")
    assert "请先通过邀请链接加入" in stranger[-1].text


async def test_custom_dates_are_checked(app, tg: FakeTelegram, feeds: FeedServer, clock) -> None:
    await _two_units(app, clock, feeds)
    admin = tg.user(ADMIN_ID, "王主任")
    menu = (await admin.send("/report"))[-1]
    ask = (await admin.press(menu, "自定义日期"))[-1]
    assert "2026-01-01~2026-03-31" in ask.text
    assert "日期不存在：2026-02-30" in (await admin.send("2026-02-30~2026-03-01"))[-1].text
    assert "日期格式不对" in (await admin.send("上个月"))[-1].text
    assert "结束日期不能早于开始日期" in (await admin.send("2026-02-01~2026-01-01"))[-1].text
    scope = (await admin.send("2026年2月1日至2026年2月28日"))[-1]
    assert "时段：2026-02-01 ~ 2026-02-28" in scope.text
    mark = tg.mark()
    await admin.press(scope, "某街道办")
    summary, document, _charts = await _delivered(admin, mark)
    assert "期内发布 1 条" in summary.text  # the post of 10 February
    assert document.filename == "政务新媒体报告-20260201-20260228.xlsx"


@pytest.mark.both_backends
async def test_inspection_draws_a_recorded_reproducible_sample(
    app, tg: FakeTelegram, feeds: FeedServer, clock
) -> None:
    edu, street = await _two_units(app, clock, feeds)
    admin = tg.user(ADMIN_ID, "王主任")
    menu = (await admin.send("/report"))[-1]
    scope = (await admin.press(menu, "季度抽查"))[-1]
    mark = tg.mark()
    await admin.press(scope, "全部单位")
    summary, document, _charts = await _delivered(admin, mark)
    assert "季度抽查" in summary.text and "抽查 1/2 个账号" in summary.text
    assert document.filename == "政务新媒体抽查-20260101-20260302.xlsx"
    sheet = _rows(load_workbook(io.BytesIO(document.document)), "抽查")
    head = {r[0]: r[1] for r in sheet[:10]}
    assert head["抽样比例"] == "30%" and head["候选账号数"] == 2 and head["抽查账号数"] == 1
    async with app.sessionmaker() as session:
        entry = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "report.inspection"))
        ).one()
    seed = entry.after["seed"]
    assert head["随机种子"] == seed
    drawn = draw_sample([edu, street], ratio=0.3, seed=seed)
    assert entry.after["sampled"] == drawn
    names = {edu: "某区教育发布", street: "街道微博"}
    verdict = sheet[12]
    assert sheet[11] == ["序号", "单位", "账号名称", "平台", "最近更新", "结论", "原因", "备注"]
    assert verdict[2] == names[drawn[0]]
    if drawn == [street]:
        assert verdict[5] == "不合格"
        assert verdict[6] == (
            "检查前 14 天内未更新（最近更新：2026-02-10）；存在单项否决问题：涉赌 1 处"
        )
    else:
        assert verdict[5] == "合格" and verdict[4] == "2026-03-01"
