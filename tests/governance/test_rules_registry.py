"""Registry rules: lifecycle moves, field limits, platform-id normalisation, permissions."""

from __future__ import annotations

import pytest

from governance.errors import InvalidInput, StaleAction
from governance.registry import (
    AccountStatus,
    check_transition,
    normalize_platform_ref,
    validate_account_name,
    validate_http_url,
    validate_necessity,
    validate_platform_ref,
    validate_posts_per_week,
)
from governance.roles import (
    Actor,
    Role,
    can_approve_registration,
    can_view_account,
    invitable_roles,
)


def actor(*roles: Role, unit: int | None = 1, active: bool = True) -> Actor:
    return Actor(user_id=1, unit_id=unit, roles=frozenset(roles), active=active)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (AccountStatus.PENDING, AccountStatus.ACTIVE),
        (AccountStatus.ACTIVE, AccountStatus.RECTIFYING),
        (AccountStatus.RECTIFYING, AccountStatus.CLOSED),
        (AccountStatus.SUSPENDED, AccountStatus.ACTIVE),
        (AccountStatus.ACTIVE, AccountStatus.CANCELLED),
    ],
)
def test_lifecycle_allows_the_documented_moves(
    current: AccountStatus, target: AccountStatus
) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (AccountStatus.CLOSED, AccountStatus.ACTIVE),
        (AccountStatus.REJECTED, AccountStatus.ACTIVE),
        (AccountStatus.PENDING, AccountStatus.CLOSED),
        (AccountStatus.CANCELLED, AccountStatus.SUSPENDED),
    ],
)
def test_lifecycle_refuses_moves_out_of_final_states(
    current: AccountStatus, target: AccountStatus
) -> None:
    with pytest.raises(StaleAction):
        check_transition(current, target)


def test_same_platform_id_written_differently_normalises_equal() -> None:
    assert normalize_platform_ref("https://www.weibo.com/u/1001/") == normalize_platform_ref(
        "weibo.com/u/1001"
    )
    assert normalize_platform_ref("GovWeChat") == normalize_platform_ref(" govwechat ")
    assert normalize_platform_ref("weibo.com/u/1001") != normalize_platform_ref("weibo.com/u/10011")


def test_field_limits_are_enforced_with_the_field_named() -> None:
    with pytest.raises(InvalidInput) as too_long:
        validate_account_name("号" * 61)
    assert too_long.value.params["label"] == "账号名称"
    assert validate_account_name("  区  教育  发布 ") == "区 教育 发布"
    with pytest.raises(InvalidInput):
        validate_necessity("太短")
    with pytest.raises(InvalidInput):
        validate_platform_ref("has space")
    assert validate_platform_ref("https://weibo.com/u/1") == "https://weibo.com/u/1"


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", "201", "1.5"])
def test_posts_per_week_must_be_a_positive_integer_within_range(value: str) -> None:
    with pytest.raises(InvalidInput):
        validate_posts_per_week(value)


@pytest.mark.parametrize(
    "url",
    ["ftp://x.cn/feed", "javascript:alert(1)", "http://", "https://user:pw@x.cn/feed", "x.cn/feed"],
)
def test_only_plain_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(InvalidInput):
        validate_http_url(url, label="订阅源地址")


def test_unit_managers_invite_within_their_unit_only_and_never_admins() -> None:
    manager = actor(Role.UNIT_MANAGER, unit=7)
    assert Role.ADMIN not in invitable_roles(manager, 7)
    assert invitable_roles(manager, 8) == []
    assert Role.ADMIN in invitable_roles(actor(Role.ADMIN), 8)


def test_disabled_admin_has_no_rights() -> None:
    assert not can_approve_registration(actor(Role.ADMIN, active=False))
    assert not can_view_account(actor(Role.EDITOR, unit=1, active=False), 1)
    assert can_view_account(actor(Role.EDITOR, unit=1), 1)
    assert not can_view_account(actor(Role.EDITOR, unit=1), 2)
