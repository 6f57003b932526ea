"""The account registry's rules: platforms, lifecycle and the validation of form fields.

National rules encoded here: no account without a necessity, an operating plan and a named
responsible person (无开通必要的不开, 无运营计划的不开, 无明确责任人的不开); one unit has in
principle one account per platform; the same platform id is never registered twice; every
lifecycle move is one of the allowed transitions.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from governance.errors import InvalidInput, StaleAction
from governance.i18n import N_
from governance.vocabulary import ACCOUNT_FIELD_LABELS
from governance.vocabulary import PLATFORM_LABELS as PLATFORM_LABELS
from governance.vocabulary import STATUS_LABELS as STATUS_LABELS
from governance.vocabulary import AccountStatus as AccountStatus
from governance.vocabulary import Platform as Platform

#: The lifecycle 申请 → 在用 → 整改中 → 关停/注销, plus suspension and rejection.
TRANSITIONS: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.PENDING: frozenset({AccountStatus.ACTIVE, AccountStatus.REJECTED}),
    AccountStatus.ACTIVE: frozenset(
        {
            AccountStatus.RECTIFYING,
            AccountStatus.SUSPENDED,
            AccountStatus.CLOSED,
            AccountStatus.CANCELLED,
        }
    ),
    AccountStatus.RECTIFYING: frozenset(
        {
            AccountStatus.ACTIVE,
            AccountStatus.SUSPENDED,
            AccountStatus.CLOSED,
            AccountStatus.CANCELLED,
        }
    ),
    AccountStatus.SUSPENDED: frozenset(
        {AccountStatus.ACTIVE, AccountStatus.CLOSED, AccountStatus.CANCELLED}
    ),
    AccountStatus.REJECTED: frozenset(),
    AccountStatus.CLOSED: frozenset(),
    AccountStatus.CANCELLED: frozenset(),
}

#: Statuses in which an account occupies its platform id and its unit's platform slot.
LIVE_STATUSES: frozenset[AccountStatus] = frozenset(
    {
        AccountStatus.PENDING,
        AccountStatus.ACTIVE,
        AccountStatus.RECTIFYING,
        AccountStatus.SUSPENDED,
    }
)

#: Statuses whose change needs a written reason.
REASON_REQUIRED: frozenset[AccountStatus] = frozenset(
    {AccountStatus.REJECTED, AccountStatus.SUSPENDED, AccountStatus.CLOSED, AccountStatus.CANCELLED}
)


def check_transition(current: AccountStatus, target: AccountStatus) -> None:
    """Raise :class:`StaleAction` unless ``current → target`` is an allowed move."""
    if target not in TRANSITIONS[current]:
        raise StaleAction(
            N_("该账号当前状态为“{status}”，不能执行此操作。"), status=STATUS_LABELS[current]
        )


# --- field limits -------------------------------------------------------------------------

NAME_MAX = 60
REF_MAX = 200
REASON_MAX = 500
NECESSITY_MIN, NECESSITY_MAX = 10, 1000
PLAN_MIN, PLAN_MAX = 10, 2000
UNIT_NAME_MAX = 60
PERSON_NAME_MAX = 64
POSTS_PER_WEEK_MAX = 200
URL_MAX = 2048

_SPACES = re.compile(r"\s+")


def clean_line(text: str | None) -> str:
    """Collapse whitespace of a one-line field."""
    return _SPACES.sub(" ", text or "").strip()


def validate_text(
    text: str | None, *, label: str, min_len: int = 1, max_len: int, one_line: bool = True
) -> str:
    """Return the cleaned text or raise :class:`InvalidInput` naming the field and the limit."""
    value = clean_line(text) if one_line else (text or "").strip()
    if len(value) < min_len:
        if min_len <= 1:
            raise InvalidInput(N_("“{label}”不能为空，请重新输入。"), label=label)
        raise InvalidInput(
            N_("“{label}”至少需要 {min} 个字，请写清楚后重新输入。"), label=label, min=min_len
        )
    if len(value) > max_len:
        raise InvalidInput(
            N_("“{label}”最多 {max} 个字，当前 {length} 个字，请精简后重新输入。"),
            label=label,
            max=max_len,
            length=len(value),
        )
    return value


def validate_account_name(text: str | None) -> str:
    return validate_text(text, label=ACCOUNT_FIELD_LABELS["name"], min_len=2, max_len=NAME_MAX)


def validate_unit_name(text: str | None) -> str:
    return validate_text(text, label=N_("单位名称"), min_len=2, max_len=UNIT_NAME_MAX)


def validate_reason(text: str | None, *, label: str) -> str:
    return validate_text(text, label=label, min_len=2, max_len=REASON_MAX, one_line=False)


def validate_necessity(text: str | None) -> str:
    return validate_text(
        text,
        label=ACCOUNT_FIELD_LABELS["necessity"],
        min_len=NECESSITY_MIN,
        max_len=NECESSITY_MAX,
        one_line=False,
    )


def validate_plan(text: str | None) -> str:
    return validate_text(
        text,
        label=ACCOUNT_FIELD_LABELS["operating_plan"],
        min_len=PLAN_MIN,
        max_len=PLAN_MAX,
        one_line=False,
    )


def validate_posts_per_week(text: str | int | None) -> int:
    raw = str(text if text is not None else "").strip()
    if not raw.isdigit():
        raise InvalidInput(N_("请输入每周计划发布的条数（整数，至少 1）。"))
    value = int(raw)
    if value < 1:
        raise InvalidInput(N_("每周至少承诺发布 1 条；不打算更新的账号不应开设。"))
    if value > POSTS_PER_WEEK_MAX:
        raise InvalidInput(N_("每周发布条数不能超过 {max}。"), max=POSTS_PER_WEEK_MAX)
    return value


def validate_http_url(text: str | None, *, label: str) -> str:
    """A syntactic check of an http(s) URL; reachability and address rules come later."""
    value = clean_line(text)
    if not value:
        raise InvalidInput(N_("“{label}”不能为空，请重新输入。"), label=label)
    if len(value) > URL_MAX:
        raise InvalidInput(N_("网址过长（最多 {max} 个字符）。"), max=URL_MAX)
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidInput(N_("只支持 http:// 或 https:// 开头的网址。"))
    if not parts.hostname:
        raise InvalidInput(N_("网址缺少域名，请检查后重新输入。"))
    if parts.username or parts.password:
        raise InvalidInput(N_("网址中不能包含用户名或密码。"))
    return value


def validate_platform_ref(text: str | None) -> str:
    """A platform id (e.g. a WeChat id) or a homepage URL."""
    value = validate_text(
        text, label=ACCOUNT_FIELD_LABELS["platform_ref"], min_len=2, max_len=REF_MAX
    )
    if "://" in value:
        validate_http_url(value, label=N_("主页网址"))
    elif " " in value:
        raise InvalidInput(N_("平台账号ID不能包含空格；如是主页网址，请以 https:// 开头。"))
    return value


def normalize_platform_ref(value: str) -> str:
    """The form used to recognise the same platform id written twice."""
    ref = clean_line(value).lower()
    ref = re.sub(r"^https?://", "", ref)
    ref = re.sub(r"^(www\.|m\.)", "", ref)
    ref = ref.split("#", 1)[0]
    return ref.rstrip("/")
