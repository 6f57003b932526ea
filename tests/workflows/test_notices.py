"""Every notice kind renders in both locales from a sample, and personal data never shows."""

from __future__ import annotations

import re

import pytest

from bot.i18n import build_i18n
from handlers.delivery import Copy, Edit, Send
from handlers.notices import RENDERERS
from workflows import notices as n

ID_NUMBER = "110105199001011232"  # a valid 18-digit ID number (check digit 2)
MOBILE = "13812345678"
TITLE = f"关于{ID_NUMBER}同志（电话{MOBILE}）的公示"

ACCOUNT = {"account_id": 7, "name": "某某发布", "platform": "weibo", "unit": "某某局"}
SUMMARY = {
    **ACCOUNT,
    "version": 2,
    "platform_ref": "mofa",
    "responsible": "张三",
    "posts_per_week": 3,
    "necessity": "政务公开",
    "operating_plan": "每周更新",
    "feed_url": "https://rsshub.example/weibo/user/1",
}
ACTIVITY = {
    **ACCOUNT,
    "days": 15,
    "last_title": TITLE,
    "last_link": 'https://example.gov.cn/a?x=1&quot;onmouseover="alert(1)',
    "last_date": "2026-11-01",
}
REVIEW = {"review_id": 3, "round": 1, "number": "SH-2026-0003", "title": TITLE}
CASE = {**ACCOUNT, "case_id": 5, "case_kind": "content", "deadline": "2026-12-08 18:00"}
CASE_PROBLEMS = {
    "problems": [
        {"kind": "finding", "category": "pii", "text": TITLE},
        {"kind": "dormant", "days": 20},
        {"kind": "manual", "text": TITLE},
    ],
    "more": 2,
}

REPOST = {
    "task_id": 3,
    "title": "关于开展安全生产月活动的通知",
    "link": "https://mp.weixin.qq.com/s/abc",
    "deadline": "2026-01-08 18:00",
    "account_id": 7,
    "account": "某某发布",
    "platform": "wechat",
    "headline_counts": True,
}
SAMPLES: dict[str, n.Notice] = {
    s.kind: s
    for s in [
        n.RegistrationPending(**SUMMARY, applicant="李四", duplicate_reason="分设两个账号"),
        n.RegistrationDecided(
            account_id=7, name="某某发布", approved=False, decider="王五", reason="重复"
        ),
        n.ResponsibleAssigned(**SUMMARY, responsible_id=9),
        n.AccountStatusChanged(
            account_id=7, name="某某发布", status="suspended", who="王五", reason="整合"
        ),
        n.InvitationAccepted(invitation_id=1, who="赵六", unit="某某局", role="editor"),
        n.RolesChanged(who="王五", roles=["editor", "approver"]),
        n.ActiveChanged(who="王五", active=False),
        n.DormancyAlert(**ACTIVITY, state="dormant", repeat=1),
        n.RecoveredAlert(**ACTIVITY, previous="dormant"),
        n.FeedBrokenAlert(**ACCOUNT, outcome="http_error", status=500, failures=3, repeat=2),
        n.FeedRecoveredAlert(**ACCOUNT),
        n.VetoFinding(
            **ACCOUNT,
            finding_id=11,
            post_id=12,
            problems=[
                n.VetoProblem(category="gambling", text="澳门新葡京"),
                n.VetoProblem(category="pii", text=ID_NUMBER),
            ],
            post_title=TITLE,
            post_link="https://example.gov.cn/p/12",
        ),
        n.ReviewCard(
            **REVIEW,
            account="某某发布",
            platform="wechat",
            submitter="李四",
            stage="初审",
            stage_no=1,
            stage_count=3,
            rule="all",
            deadline="2026-12-02 18:00",
            planned_at="2026-12-03 09:00",
            version=2,
            finding_count=9,
            findings=[
                n.CardFinding(category="pii", severity="veto", before=f"电话{MOBILE}", hit="***"),
                n.CardFinding(
                    category="typo", severity="general", hit="紧紧环绕", suggestion="紧紧围绕"
                ),
                n.CardFinding(category="empty"),
            ],
            diff=[("same", "前文"), ("added", ID_NUMBER), ("removed", "旧文")],
            copies=[(100, 1), (100, 2)],
            on_behalf_of="钱七",
        ),
        n.CardClosed(
            ref=4, number="SH-2026-0003", title=TITLE, stage="初审", outcome="approved", by="王五"
        ),
        n.Progress(**REVIEW, passed="初审", next="复审", by="王五"),
        n.Approved(**REVIEW, by="王五"),
        n.Returned(**REVIEW, by="王五", stage="复审", reason="请修改"),
        n.Rejected(**REVIEW, by="王五", stage="终审", reason="不宜发布"),
        n.Expired(**REVIEW, planned_at="2026-12-03 09:00"),
        n.Reminder(**REVIEW, stage="初审", deadline="2026-12-02 18:00", due=True),
        n.Escalated(**REVIEW, account="某某发布", stage="初审", deadline="x", waiting=["王五"]),
        n.Stuck(**REVIEW, stage="复审", unit="某某局"),
        n.RouteBroken(scope="某某局", why="该环节没有可用的审核人", why_params={}),
        n.Delegated(delegation_id=1, who="王五", until="2026-12-09 00:00"),
        n.Unreviewed(
            flag_id=1,
            account="某某发布",
            platform="douyin",
            title=TITLE,
            link="javascript:alert(1)",
        ),
        n.CaseOpened(**CASE, **CASE_PROBLEMS, days=5),
        n.CaseExplained(**CASE, explanation="已删除"),
        n.CaseOverdue(**CASE, **CASE_PROBLEMS, missed="2026-12-01"),
        n.CaseInterviewSuggested(**CASE, **CASE_PROBLEMS, missed="2026-12-01"),
        n.CaseInterviewed(**CASE, note="已约谈"),
        n.CaseClosureRecommended(**CASE, **CASE_PROBLEMS, missed="2026-12-01"),
        n.CaseExtended(**CASE),
        n.CaseResolved(**CASE, resolution="监测显示账号已恢复更新"),
        n.CaseClosed(**CASE, notice_url="https://example.gov.cn/notice"),
        n.Digest(
            period="weekly",
            label="2026-W48",
            unit_id=2,
            unit="某某局",
            days=7,
            new_problems={"pii": 2, "gambling": 1},
            veto_problems=3,
            newly_dormant=[(7, "某某发布")],
            newly_dormant_total=4,
            reviews_late=1,
            reposts_overdue=[(3, "关于开展安全生产月活动的通知", 6, ["甲发布", "乙发布"])],
        ),
        n.RobotTest(channel_name="办公室群", requested_by="管理员"),
        n.RepostAssigned(**REPOST),
        n.RepostReminder(**REPOST, stage="deadline"),
        n.SiteDownAlert(
            account_id=9,
            name="某区政府网站",
            platform="website",
            unit="某区政府办",
            url="http://www.example.gov.cn/",
            failures=2,
            error="timed out",
            since="2026-12-01 09:00",
            episode="20261201010000",
        ),
        n.SiteRecoveredAlert(
            account_id=9,
            name="某区政府网站",
            platform="website",
            url="http://www.example.gov.cn/",
            since="2026-12-01 09:00",
        ),
        n.WebsiteVetoAlert(
            account_id=9,
            name="某区政府网站",
            platform="website",
            rule="column_update",
            indicator="单项否决·栏目不更新",
            reason="空白栏目 {n} 个（≥{limit}）",
            values={"n": 5, "limit": 5},
        ),
    ]
}


def test_every_kind_has_a_sample_and_a_renderer() -> None:
    assert set(SAMPLES) == set(n.kinds())
    assert RENDERERS.missing() == set()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_renders_from_its_stored_form_without_personal_data(
    kind: str, locale: str
) -> None:
    stored = SAMPLES[kind].params()
    notice = n.load(kind, stored)  # the round trip the outbox makes
    assert notice == SAMPLES[kind]
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale(locale):
        actions = RENDERERS.render(notice)
    texts = [a.text for a in actions if isinstance(a, Send | Edit)]
    assert texts and all(t.strip() for t in texts)
    for text in texts:
        assert ID_NUMBER not in text and MOBILE not in text, text
        assert not re.search(r"\{[a-z_]+\}", text), text  # every placeholder filled
        assert 'href="javascript' not in text and '"onmouseover' not in text
    if kind == "review.card":
        assert [a for a in actions if isinstance(a, Copy)] == [Copy(100, 1), Copy(100, 2)]


def test_rows_queued_by_the_first_release_still_render() -> None:
    old_case = {**ACCOUNT, "case_id": 5, "kind": "dormant", "deadline": "x", "level": 1}
    assert n.load("case.opened", old_case) == n.CaseOpened(
        **ACCOUNT, case_id=5, case_kind="dormant", deadline="x", level=1
    )
    old_veto = {**ACCOUNT, "category": "gambling", "text": "某博彩", "post_title": "t"}
    veto = n.load("finding.veto", old_veto)
    assert isinstance(veto, n.VetoFinding)
    assert veto.all_problems() == [n.VetoProblem(category="gambling", text="某博彩")]


def test_a_row_that_does_not_fit_its_kind_is_an_unknown_notice() -> None:
    with pytest.raises(n.UnknownNotice):
        n.load("alert.dormancy", {"name": "x"})
    with pytest.raises(n.UnknownNotice):
        n.load("no.such.kind", {})


def test_dedup_keys_differ_per_event_and_keep_the_first_release_format() -> None:
    a = n.DormancyAlert(**ACTIVITY, state="dormant", episode="20261101000000", repeat=0)
    b = n.DormancyAlert(**ACTIVITY, state="dormant", episode="20261101000000", repeat=1)
    assert a.dedup_key() == "dormancy:7:dormant:20261101000000:0"
    assert a.dedup_key() != b.dedup_key()
    assert n.RolesChanged(who="x", roles=[]).dedup_key() is None
