"""The pre-publication review (先审后发, 三审三校): routes, stages and the workflow's transitions.

A route is an ordered list of stages (初审 → 复审 → 终审 by default); each stage names its
approvers (people, or everyone with a role in the unit), a rule (any one of them, or all of
them) and a time limit. The rules here decide, from facts the caller loads, who may approve a
stage and what a decision does to the review; the database layer only applies the outcome.

Separation of duties (谁审核谁负责): the submitter never approves their own draft and one person
approves at most one stage of the same draft, so a route is satisfiable only if its stages can
be staffed by different people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from governance.errors import InvalidInput, StaleAction
from governance.i18n import N_
from governance.registry import validate_text
from governance.roles import Actor, Role


class ReviewStatus(StrEnum):
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


STATUS_LABELS: dict[ReviewStatus, str] = {
    ReviewStatus.IN_REVIEW: N_("审核中"),
    ReviewStatus.RETURNED: N_("已退回修改"),
    ReviewStatus.APPROVED: N_("已通过"),
    ReviewStatus.REJECTED: N_("已驳回"),
    ReviewStatus.WITHDRAWN: N_("已撤回"),
    ReviewStatus.EXPIRED: N_("已过期"),
}

#: Statuses in which a review is still undecided (cards act, reminders run, withdrawal works).
OPEN_STATUSES: frozenset[ReviewStatus] = frozenset({ReviewStatus.IN_REVIEW, ReviewStatus.RETURNED})


class Decision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"


DECISION_LABELS: dict[Decision, str] = {
    Decision.APPROVE: N_("通过"),
    Decision.RETURN: N_("退回修改"),
    Decision.REJECT: N_("驳回"),
}


class StageRule(StrEnum):
    ANY = "any"
    ALL = "all"


RULE_LABELS: dict[StageRule, str] = {
    StageRule.ANY: N_("任一人通过"),
    StageRule.ALL: N_("全部通过"),
}

STAGES_MAX = 5
STAGE_NAME_MAX = 20
SLA_MIN, SLA_MAX = 1, 720
TITLE_MIN, TITLE_MAX = 2, 100
COMMENT_MAX = 500
DEFAULT_SLA_HOURS = 24
DEFAULT_STAGE_NAMES: tuple[str, ...] = (N_("初审"), N_("复审"), N_("终审"))


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One stage as configured: approvers are people (ids) and/or a role within the unit."""

    name: str
    rule: StageRule = StageRule.ANY
    sla_hours: int = DEFAULT_SLA_HOURS
    approver_ids: tuple[int, ...] = ()
    role: Role | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rule": self.rule.value,
            "sla_hours": self.sla_hours,
            "approver_ids": list(self.approver_ids),
            "role": self.role.value if self.role else None,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StageSpec:
        return cls(
            name=str(raw["name"]),
            rule=StageRule(raw.get("rule", "any")),
            sla_hours=int(raw.get("sla_hours", DEFAULT_SLA_HOURS)),
            approver_ids=tuple(int(i) for i in raw.get("approver_ids") or ()),
            role=Role(raw["role"]) if raw.get("role") else None,
        )


def default_stages() -> list[StageSpec]:
    """初审/复审/终审, each open to the unit's approvers: a start the manager then staffs."""
    return [StageSpec(name=name, role=Role.APPROVER) for name in DEFAULT_STAGE_NAMES]


def stages_from(raw: Iterable[dict[str, Any]]) -> list[StageSpec]:
    return [StageSpec.from_dict(item) for item in raw]


# --- validation of what people type ---------------------------------------------------------


def validate_stage_name(text: str | None) -> str:
    return validate_text(text, label=N_("环节名称"), max_len=STAGE_NAME_MAX)


def validate_sla(text: str | int | None) -> int:
    raw = str(text if text is not None else "").strip()
    if not raw.isdigit() or not SLA_MIN <= int(raw) <= SLA_MAX:
        raise InvalidInput(
            N_("审核时限请输入 {min}–{max} 之间的整数（小时）。"), min=SLA_MIN, max=SLA_MAX
        )
    return int(raw)


def validate_title(text: str | None) -> str:
    return validate_text(text, label=N_("标题"), min_len=TITLE_MIN, max_len=TITLE_MAX)


def validate_comment(text: str | None, *, label: str, required: bool) -> str | None:
    """Reasons for returning or rejecting are required; an approval comment is optional."""
    if not required and not (text or "").strip():
        return None
    return validate_text(text, label=label, min_len=2, max_len=COMMENT_MAX, one_line=False)


# --- separation of duties and satisfiability -------------------------------------------------


def _distinct_assignment(candidates: Sequence[frozenset[int]]) -> bool:
    """True when each set can be given a different person (bipartite matching, sets are small)."""
    owner: dict[int, int] = {}

    def place(index: int, seen: set[int]) -> bool:
        for person in candidates[index]:
            if person in seen:
                continue
            seen.add(person)
            if person not in owner or place(owner[person], seen):
                owner[person] = index
                return True
        return False

    return all(place(i, set()) for i in range(len(candidates)))


def check_staffing(
    stages: Sequence[StageSpec],
    people: Sequence[frozenset[int]],
    *,
    exclude: frozenset[int] = frozenset(),
) -> None:
    """Raise :class:`InvalidInput` unless different people can approve every stage.

    ``people[i]`` are the active people stage ``i`` resolves to; ``exclude`` are those who may
    not approve at all (the submitter). An "all" stage needs every one of its people, so they
    are used up; "any" stages need one person each, all different.
    """
    if not stages:
        raise InvalidInput(N_("审核流程至少需要一个环节。"))
    if len(stages) > STAGES_MAX:
        raise InvalidInput(N_("审核流程最多 {max} 个环节。"), max=STAGES_MAX)
    pools = [frozenset(p) - exclude for p in people]
    for stage, pool in zip(stages, pools, strict=True):
        if not pool:
            raise InvalidInput(
                N_("环节“{stage}”没有可用的审核人（提交人不能审核自己的稿件）。"), stage=stage.name
            )
    used: set[int] = set()
    for stage, pool in zip(stages, pools, strict=True):
        if stage.rule is StageRule.ALL:
            if used & pool:
                raise InvalidInput(
                    N_(
                        "环节“{stage}”要求全部通过，但其中有人还负责其他环节；同一人不能审核同一稿件的两个环节。"
                    ),
                    stage=stage.name,
                )
            used |= pool
    open_pools = [p - used for s, p in zip(stages, pools, strict=True) if s.rule is StageRule.ANY]
    if not _distinct_assignment(open_pools):
        raise InvalidInput(
            N_("审核人不足：每个环节须由不同的人审核（三审须三人），请为各环节增加审核人。")
        )


@dataclass(frozen=True, slots=True)
class Participation:
    """One decision as separation of duties sees it: who pressed, for whom, at which stage."""

    user_id: int
    on_behalf_of: int | None
    stage_index: int


def handled_by_person(decisions: Iterable[Participation]) -> dict[int, set[int]]:
    """The stages each person took part in: the delegate who pressed and the colleague they
    acted for both count as having handled that stage (谁审核谁负责, 代审也算)."""
    handled: dict[int, set[int]] = {}
    for d in decisions:
        handled.setdefault(d.user_id, set()).add(d.stage_index)
        if d.on_behalf_of is not None:
            handled.setdefault(d.on_behalf_of, set()).add(d.stage_index)
    return handled


def may_approve_stage(
    user_id: int,
    *,
    stage_index: int,
    submitter_id: int,
    decided_stages: dict[int, set[int]],
    on_behalf_of: int | None = None,
) -> bool:
    """The submitter never; anyone who decided another stage of this draft never, directly or
    on behalf of another; acting for someone, both the delegate and that person must qualify."""
    people = (user_id,) if on_behalf_of is None else (user_id, on_behalf_of)
    return all(
        person != submitter_id
        and all(index == stage_index for index in decided_stages.get(person, set()))
        for person in people
    )


#: Roles that approve drafts, so may stand in for an approver who is away.
APPROVING_ROLES: frozenset[Role] = frozenset({Role.APPROVER, Role.UNIT_MANAGER})


def check_delegate(actor: Actor, delegate: Actor | None, *, units_above: Sequence[int]) -> None:
    """Raise :class:`InvalidInput` unless ``delegate`` may review in ``actor``'s place.

    The delegate must be someone else, active, of the same unit or a unit above it
    (``units_above``: the actor's unit's parents), and hold an approving role: a plain editor
    could not approve the stages they would act for.
    """
    if delegate is None or not delegate.active:
        raise InvalidInput(N_("代审人必须是在用的人员。"))
    if delegate.user_id == actor.user_id:
        raise InvalidInput(N_("不能委托给自己。"))
    if delegate.unit_id is None or (
        delegate.unit_id != actor.unit_id and delegate.unit_id not in units_above
    ):
        raise InvalidInput(N_("代审人必须是本单位或上级单位的人员。"))
    if not delegate.roles & APPROVING_ROLES:
        raise InvalidInput(N_("代审人须有审核权限（审核人或单位管理员）；编辑不能代为审核稿件。"))


def may_stand_in(actor: Actor, delegate: Actor, *, units_above: Sequence[int]) -> bool:
    """The same rule as :func:`check_delegate`, as a yes/no for offering people in a list."""
    try:
        check_delegate(actor, delegate, units_above=units_above)
    except InvalidInput:
        return False
    return True


# --- the workflow's transitions --------------------------------------------------------------


class Step(StrEnum):
    WAIT = "wait"  # an "all" stage still needs others
    NEXT_STAGE = "next_stage"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Transition:
    step: Step
    stage_index: int  # the stage the review is at afterwards (the next one, or unchanged)


@dataclass(slots=True)
class StageState:
    """What the current stage has collected so far in this round."""

    rule: StageRule
    required: frozenset[int]  # who was asked (for "all", everyone must approve)
    approved: set[int] = field(default_factory=set)


def check_open(status: ReviewStatus, *, round_now: int, round_pressed: int) -> None:
    """A card drawn for an earlier round or a closed review answers 已处理."""
    if status is not ReviewStatus.IN_REVIEW or round_now != round_pressed:
        raise StaleAction(N_("已处理：该稿件已进入下一步或已结束。"))


def transition(
    *, decision: Decision, user_id: int, stage_index: int, stage_count: int, state: StageState
) -> Transition:
    """What one decision does: wait, move on, finish, or send the draft back."""
    if decision is Decision.RETURN:
        return Transition(Step.RETURNED, stage_index)
    if decision is Decision.REJECT:
        return Transition(Step.REJECTED, stage_index)
    state.approved.add(user_id)
    if state.rule is StageRule.ALL and not state.required <= state.approved:
        return Transition(Step.WAIT, stage_index)
    if stage_index + 1 >= stage_count:
        return Transition(Step.APPROVED, stage_index)
    return Transition(Step.NEXT_STAGE, stage_index + 1)


def restart_stage(*, returned_at: int, restart_from_first: bool) -> int:
    """A resubmission starts again at stage 1, or (configurable) at the stage that returned it."""
    return 0 if restart_from_first else returned_at


def deadline(started: datetime, sla_hours: int) -> datetime:
    return started + timedelta(hours=sla_hours)


def halfway(started: datetime, sla_hours: int) -> datetime:
    return started + timedelta(hours=sla_hours) / 2


def review_number(prefix: str, year: int, seq: int) -> str:
    """SH-2026-0042: the number people quote; unique, sequential per year."""
    return f"{prefix}-{year}-{seq:04d}"


def parse_review_number(text: str) -> str:
    value = (text or "").strip().upper()
    if not value or len(value) > 32 or " " in value:
        raise InvalidInput(N_("请给出审核编号，例如 /review SH-2026-0042。"))
    return value


PLANNED_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m-%d %H:%M")


def parse_planned(text: str | None, *, tz: Any, now: datetime) -> datetime:
    """A planned publish time typed in the office's zone (2026-01-06 09:00), in the future."""
    raw = " ".join((text or "").split())
    for fmt in PLANNED_FORMATS:
        try:
            parsed = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if fmt.startswith("%m"):
            parsed = parsed.replace(year=now.astimezone(tz).year)
        moment = parsed.replace(tzinfo=tz)
        if moment <= now:
            raise InvalidInput(N_("计划发布时间必须晚于现在，请重新输入。"))
        return moment
    raise InvalidInput(N_("时间格式不对，请按“2026-01-06 09:00”的格式输入。"))
