"""The review workflow's pure rules: staffing, transitions, planned times, numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from governance.errors import InvalidInput, StaleAction
from governance.review import (
    Decision,
    ReviewStatus,
    StageRule,
    StageSpec,
    StageState,
    Step,
    check_open,
    check_staffing,
    halfway,
    may_approve_stage,
    parse_planned,
    restart_stage,
    review_number,
    transition,
    validate_comment,
    validate_sla,
)

ANY = StageRule.ANY
ALL = StageRule.ALL


def stages(*rules: StageRule) -> list[StageSpec]:
    return [StageSpec(name=f"s{i}", rule=r) for i, r in enumerate(rules)]


def test_three_stages_need_three_different_people() -> None:
    check_staffing(stages(ANY, ANY, ANY), [frozenset({1, 2}), frozenset({2}), frozenset({3})])
    with pytest.raises(InvalidInput, match="审核人不足"):
        check_staffing(stages(ANY, ANY, ANY), [frozenset({1}), frozenset({1}), frozenset({3})])


def test_an_empty_stage_or_only_the_submitter_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_staffing(stages(ANY, ANY), [frozenset({1}), frozenset()])
    assert exc.value.params == {"stage": "s1"}
    with pytest.raises(InvalidInput):
        check_staffing(stages(ANY), [frozenset({7})], exclude=frozenset({7}))


def test_an_all_stage_uses_up_its_people() -> None:
    with pytest.raises(InvalidInput):
        check_staffing(stages(ALL, ANY), [frozenset({1, 2}), frozenset({2})])
    check_staffing(stages(ALL, ANY), [frozenset({1, 2}), frozenset({2, 3})])
    with pytest.raises(InvalidInput, match="全部通过"):
        check_staffing(stages(ALL, ALL), [frozenset({1, 2}), frozenset({2, 3})])


def test_separation_of_duties() -> None:
    decided = {5: {0}}
    assert not may_approve_stage(9, stage_index=0, submitter_id=9, decided_stages={})
    assert may_approve_stage(5, stage_index=0, submitter_id=9, decided_stages=decided)
    assert not may_approve_stage(5, stage_index=1, submitter_id=9, decided_stages=decided)


def test_transitions() -> None:
    state = StageState(rule=ALL, required=frozenset({1, 2}))
    assert (
        transition(
            decision=Decision.APPROVE, user_id=1, stage_index=0, stage_count=2, state=state
        ).step
        is Step.WAIT
    )
    assert (
        transition(
            decision=Decision.APPROVE, user_id=2, stage_index=0, stage_count=2, state=state
        ).step
        is Step.NEXT_STAGE
    )
    last = StageState(rule=ANY, required=frozenset({3, 4}))
    result = transition(
        decision=Decision.APPROVE, user_id=3, stage_index=1, stage_count=2, state=last
    )
    assert result.step is Step.APPROVED
    for decision, step in ((Decision.RETURN, Step.RETURNED), (Decision.REJECT, Step.REJECTED)):
        assert (
            transition(decision=decision, user_id=3, stage_index=1, stage_count=2, state=last).step
            is step
        )
    assert restart_stage(returned_at=2, restart_from_first=True) == 0
    assert restart_stage(returned_at=2, restart_from_first=False) == 2


def test_stale_rounds_and_closed_reviews_answer_already_handled() -> None:
    check_open(ReviewStatus.IN_REVIEW, round_now=3, round_pressed=3)
    with pytest.raises(StaleAction, match="已处理"):
        check_open(ReviewStatus.IN_REVIEW, round_now=4, round_pressed=3)
    with pytest.raises(StaleAction):
        check_open(ReviewStatus.APPROVED, round_now=3, round_pressed=3)


def test_reasons_are_required_for_return_and_reject_only() -> None:
    assert validate_comment("  ", label="意见", required=False) is None
    with pytest.raises(InvalidInput):
        validate_comment("", label="退回理由", required=True)
    assert validate_sla("24") == 24
    with pytest.raises(InvalidInput):
        validate_sla("0")


def test_planned_time_is_read_in_the_office_zone_and_must_be_ahead() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert parse_planned("2026-01-05 12:00", tz=tz, now=now) == datetime(
        2026, 1, 5, 4, 0, tzinfo=UTC
    )
    with pytest.raises(InvalidInput, match="晚于现在"):
        parse_planned("2026-01-05 08:00", tz=tz, now=now)
    with pytest.raises(InvalidInput, match="格式"):
        parse_planned("明天上午", tz=tz, now=now)


def test_numbers_and_halfway() -> None:
    assert review_number("SH", 2026, 42) == "SH-2026-0042"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    assert halfway(start, 24) == start + timedelta(hours=12)


def test_stage_specs_round_trip() -> None:
    spec = StageSpec(name="终审", rule=ALL, sla_hours=8, approver_ids=(3, 4))
    assert StageSpec.from_dict(spec.to_dict()) == spec
