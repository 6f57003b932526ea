"""Delegation keeps separation of duties: who may stand in, what acting for someone counts as."""

from __future__ import annotations

import pytest

from governance.errors import InvalidInput
from governance.review import (
    Participation,
    check_delegate,
    handled_by_person,
    may_approve_stage,
    may_stand_in,
)
from governance.roles import Actor, Role

UNIT, PARENT, OTHER = 10, 1, 20
AWAY = Actor(user_id=5, unit_id=UNIT, roles=frozenset({Role.APPROVER}))


def person(user_id: int, unit_id: int | None, *roles: Role, active: bool = True) -> Actor:
    return Actor(user_id=user_id, unit_id=unit_id, roles=frozenset(roles), active=active)


@pytest.mark.parametrize(
    "delegate",
    [
        person(6, UNIT, Role.APPROVER),
        person(7, UNIT, Role.UNIT_MANAGER),
        person(8, PARENT, Role.APPROVER),
    ],
)
def test_an_approver_of_the_same_unit_or_a_unit_above_may_stand_in(delegate: Actor) -> None:
    check_delegate(AWAY, delegate, units_above=[PARENT])
    assert may_stand_in(AWAY, delegate, units_above=[PARENT])


@pytest.mark.parametrize(
    ("delegate", "reason"),
    [
        (person(6, UNIT, Role.EDITOR), "编辑不能代为审核"),
        (person(5, UNIT, Role.APPROVER), "不能委托给自己"),
        (person(9, OTHER, Role.APPROVER), "本单位或上级单位"),
        (person(9, None, Role.ADMIN), "本单位或上级单位"),
        (person(6, UNIT, Role.APPROVER, active=False), "在用的人员"),
        (None, "在用的人员"),
    ],
)
def test_delegating_to_an_editor_oneself_or_an_outsider_is_refused_with_a_reason(
    delegate: Actor | None, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        check_delegate(AWAY, delegate, units_above=[PARENT])
    if delegate is not None:
        assert not may_stand_in(AWAY, delegate, units_above=[PARENT])


def test_a_unit_below_is_not_above() -> None:
    parent_approver = person(5, PARENT, Role.APPROVER)
    child_approver = person(6, UNIT, Role.APPROVER)
    with pytest.raises(InvalidInput, match="本单位或上级单位"):
        check_delegate(parent_approver, child_approver, units_above=[])


def test_acting_on_behalf_counts_for_the_delegate_and_the_colleague() -> None:
    # 吴 (6) decided 初审 on behalf of 孙 (5).
    handled = handled_by_person([Participation(user_id=6, on_behalf_of=5, stage_index=0)])
    assert handled == {6: {0}, 5: {0}}
    assert not may_approve_stage(6, stage_index=1, submitter_id=9, decided_stages=handled)
    assert not may_approve_stage(5, stage_index=1, submitter_id=9, decided_stages=handled)
    assert may_approve_stage(7, stage_index=1, submitter_id=9, decided_stages=handled)


def test_a_delegate_may_not_act_for_someone_who_handled_another_stage() -> None:
    handled = handled_by_person([Participation(user_id=5, on_behalf_of=None, stage_index=0)])
    assert not may_approve_stage(
        6, stage_index=1, submitter_id=9, decided_stages=handled, on_behalf_of=5
    )
    assert may_approve_stage(6, stage_index=1, submitter_id=9, decided_stages=handled)
    # Nor for the submitter.
    assert not may_approve_stage(
        6, stage_index=0, submitter_id=9, decided_stages={}, on_behalf_of=9
    )
