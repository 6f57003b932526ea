"""The product's one vocabulary: problem categories and severities, platforms, account statuses
and the account fields, each with the words people read.

Every card, notice, report, digest and ``python -m bot check`` takes its labels from here, so a
category reads the same everywhere; the wording is the inspectors' (国办秘函〔2019〕19号 and the
provincial 通报 that apply it). The stored strings (enum values) are a contract: stored rows and
``python -m bot check --jsonl`` output use them, so they never change.

Labels are message ids marked with :func:`~governance.i18n.N_`; the reader's language is applied
by whoever renders (``tr``: gettext in the bot, identity for Chinese files and the CLI).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from governance.activity import DormancyState
from governance.i18n import N_

Translate = Callable[[str], str]


def untranslated(text: str) -> str:
    """The Chinese message id as it is: the default ``tr`` for files and the CLI."""
    return text


class Severity(StrEnum):
    """How much a problem weighs in an inspection; ``rank`` 0 is the gravest."""

    VETO = "veto"  # 单项否决: fails the account by itself
    SERIOUS = "serious"
    GENERAL = "general"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]


_SEVERITY_RANK = {Severity.VETO: 0, Severity.SERIOUS: 1, Severity.GENERAL: 2}

SEVERITY_LABELS: dict[Severity, str] = {
    Severity.VETO: N_("单项否决"),
    Severity.SERIOUS: N_("严重"),
    Severity.GENERAL: N_("一般"),
}


class Category(StrEnum):
    """What kind of problem a finding is. ``EMPTY``, ``TOO_LONG`` and ``UNREADABLE`` exist only
    for drafts."""

    TYPO = "typo"
    WORDING = "wording"
    GAMBLING = "gambling"
    PORN = "porn"
    HIDDEN_LINK = "hidden_link"
    PII = "pii"
    PLACEHOLDER = "placeholder"
    AD = "ad"
    DEAD_LINK = "dead_link"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    UNREADABLE = "unreadable"  # a document whose text could not be read: manual review

    @property
    def severity(self) -> Severity:
        return CATEGORY_SEVERITY[self]

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


#: The categories a published post can have, in report column order.
CONTENT_CATEGORIES: tuple[Category, ...] = (
    Category.TYPO,
    Category.WORDING,
    Category.GAMBLING,
    Category.PORN,
    Category.HIDDEN_LINK,
    Category.PII,
    Category.PLACEHOLDER,
    Category.AD,
    Category.DEAD_LINK,
)

#: The inspection weight of each category: veto fails the account by itself (单项否决).
CATEGORY_SEVERITY: dict[Category, Severity] = {
    Category.WORDING: Severity.VETO,
    Category.GAMBLING: Severity.VETO,
    Category.PORN: Severity.VETO,
    Category.PII: Severity.VETO,
    Category.HIDDEN_LINK: Severity.SERIOUS,
    Category.PLACEHOLDER: Severity.SERIOUS,
    Category.DEAD_LINK: Severity.SERIOUS,
    Category.TYPO: Severity.GENERAL,
    Category.AD: Severity.GENERAL,
    Category.EMPTY: Severity.VETO,
    Category.TOO_LONG: Severity.SERIOUS,
    Category.UNREADABLE: Severity.SERIOUS,
}

CATEGORY_LABELS: dict[Category, str] = {
    Category.TYPO: N_("错别字"),
    Category.WORDING: N_("严重表述错误"),
    Category.GAMBLING: N_("涉赌"),
    Category.PORN: N_("涉黄"),
    Category.HIDDEN_LINK: N_("隐藏链接"),
    Category.PII: N_("个人信息泄露"),
    Category.PLACEHOLDER: N_("模板未填写"),
    Category.AD: N_("广告/残留"),
    Category.DEAD_LINK: N_("失效链接"),
    Category.EMPTY: N_("稿件为空"),
    Category.TOO_LONG: N_("稿件过长"),
    Category.UNREADABLE: N_("需人工审核"),
}


class Platform(StrEnum):
    WECHAT = "wechat"
    WEIBO = "weibo"
    DOUYIN = "douyin"
    TOUTIAO = "toutiao"
    KUAISHOU = "kuaishou"
    BILIBILI = "bilibili"
    XIAOHONGSHU = "xiaohongshu"
    CHANNELS = "channels"
    WEBSITE = "website"
    OTHER = "other"


PLATFORM_LABELS: dict[Platform, str] = {
    Platform.WECHAT: N_("微信公众号"),
    Platform.WEIBO: N_("微博"),
    Platform.DOUYIN: N_("抖音"),
    Platform.TOUTIAO: N_("今日头条"),
    Platform.KUAISHOU: N_("快手"),
    Platform.BILIBILI: N_("B站"),
    Platform.XIAOHONGSHU: N_("小红书"),
    Platform.CHANNELS: N_("视频号"),
    Platform.WEBSITE: N_("政府网站栏目"),
    Platform.OTHER: N_("其他"),
}


class AccountStatus(StrEnum):
    PENDING = "pending"
    REJECTED = "rejected"
    ACTIVE = "active"
    RECTIFYING = "rectifying"
    SUSPENDED = "suspended"
    CLOSED = "closed"
    CANCELLED = "cancelled"


STATUS_LABELS: dict[AccountStatus, str] = {
    AccountStatus.PENDING: N_("申请中"),
    AccountStatus.REJECTED: N_("未通过"),
    AccountStatus.ACTIVE: N_("在用"),
    AccountStatus.RECTIFYING: N_("整改中"),
    AccountStatus.SUSPENDED: N_("暂停"),
    AccountStatus.CLOSED: N_("关停"),
    AccountStatus.CANCELLED: N_("注销"),
}

#: What each editable account field is called: the edit menus, the card and the checks.
ACCOUNT_FIELD_LABELS: dict[str, str] = {
    "platform": N_("平台"),
    "name": N_("账号名称"),
    "platform_ref": N_("平台账号ID或主页"),
    "unit_id": N_("所属单位"),
    "responsible_id": N_("责任人"),
    "posts_per_week": N_("承诺更新频率（每周条数）"),
    "necessity": N_("开设理由"),
    "operating_plan": N_("运营计划"),
    "feed_url": N_("订阅源地址"),
}


def _label(enum: type[StrEnum], labels: Mapping[Any, str], value: str, tr: Translate) -> str:
    try:
        return tr(labels[enum(value)])
    except (ValueError, KeyError):
        return value


def category_label(value: str, tr: Translate = untranslated) -> str:
    """A category's label; an unknown stored value is returned as it is (callers escape)."""
    return _label(Category, CATEGORY_LABELS, value, tr)


def severity_label(value: str, tr: Translate = untranslated) -> str:
    return _label(Severity, SEVERITY_LABELS, value, tr)


def severity_rank(value: str) -> int:
    """Sort key of a stored severity: gravest first, unknown values last."""
    try:
        return Severity(value).rank
    except ValueError:
        return len(Severity)


def platform_label(value: str, tr: Translate = untranslated) -> str:
    return _label(Platform, PLATFORM_LABELS, value, tr)


def status_label(value: str, tr: Translate = untranslated) -> str:
    return _label(AccountStatus, STATUS_LABELS, value, tr)


#: An account's activity as the inspection names it (更新预警, 僵尸号, 建议关停).
ACTIVITY_LABELS: dict[DormancyState, str] = {
    DormancyState.ACTIVE: N_("正常更新"),
    DormancyState.WARNING: N_("更新预警"),
    DormancyState.DORMANT: N_("不更新（僵尸号）"),
    DormancyState.CLOSURE_CANDIDATE: N_("建议关停"),
    DormancyState.UNKNOWN: N_("无法判断"),
}

#: A stored finding's handling (models.findings.FindingStatus values).
FINDING_STATUS_LABELS: dict[str, str] = {
    "open": N_("未处理"),
    "waived": N_("已豁免"),
    "resolved": N_("已消除"),
    "withdrawn": N_("词库调整后撤销"),
}


def finding_status_label(value: str, tr: Translate = untranslated) -> str:
    label = FINDING_STATUS_LABELS.get(value)
    return tr(label) if label else value
