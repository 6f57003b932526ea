"""The quarterly inspection (季度抽查): a reproducible sample of a report's accounts, each judged
against the national rules; split from :mod:`governance.reporting`, which builds the report."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from governance.activity import DAY
from governance.reporting import (
    FAIL,
    PASS,
    REASON_FAULT,
    REASON_LACK,
    REASON_NO_UPDATE,
    REASON_OK,
    REASON_VETO,
    UNASSESSABLE,
    AccountLine,
    Inspection,
    Report,
    Verdict,
    fault_params,
    lack_params,
)
from governance.scoring import ScoringRules


def draw_sample(ids: Sequence[int], *, ratio: float, seed: int, minimum: int = 1) -> list[int]:
    """A reproducible random sample: the same ids, ratio and seed always draw the same accounts.

    The ids are sorted first, so the order the database returned them in does not matter.
    """
    if not 0 < ratio <= 1:
        raise ValueError("ratio must be in (0, 1]")
    pool = sorted(set(ids))
    size = min(len(pool), max(minimum, math.ceil(len(pool) * ratio)))
    return sorted(random.Random(seed).sample(pool, size))


def judge(
    line: AccountLine,
    *,
    open_vetoes: Mapping[str, int],
    checked_at: datetime,
    rules: ScoringRules,
    tz: ZoneInfo,
) -> Verdict:
    """One sampled account against the national rules as of ``checked_at``.

    Fails on no update in the ``update_days`` before the check, or any open veto problem. A
    feed that cannot be read, or a silence with no evidence to count it from, proves nothing
    either way: the account is 无法评估 (unless an open veto problem fails it anyway).
    """
    reasons: list[tuple[str, Mapping[str, object]]] = []
    failed = False
    unknown = False
    times = [t for t in line.account.post_times if t <= checked_at]
    last = max(times, default=None)
    if not line.reading.readable:
        unknown = True
        reasons.append((REASON_FAULT, fault_params(line.reading)))
    elif line.silence is None or line.silence.days is None:
        unknown = True
        reasons.append((REASON_LACK, lack_params(line.silence)))
    else:
        since = last or line.silence.since
        if since is None or checked_at - since >= rules.update_days * DAY:
            failed = True
            shown = since.astimezone(tz).strftime("%Y-%m-%d") if since else "—"
            reasons.append((REASON_NO_UPDATE, {"days": rules.update_days, "last": shown}))
    for category, n in sorted(open_vetoes.items()):
        if n > 0:
            failed = True
            reasons.append((REASON_VETO, {"category": category, "n": n}))
    if failed:
        outcome = FAIL
    elif unknown:
        outcome = UNASSESSABLE
    else:
        outcome = PASS
        reasons.append((REASON_OK, {"days": rules.update_days}))
    return Verdict(line, outcome, tuple(reasons))


def inspect(
    report: Report,
    *,
    open_vetoes: Mapping[int, Mapping[str, int]],
    seed: int,
    rules: ScoringRules,
    tz: ZoneInfo,
    ratio: float | None = None,
) -> Report:
    """The report with its inspection: a sample of the accounts in use, each judged."""
    candidates = [
        line.account.id
        for line in report.accounts
        if line.account.status in {"active", "rectifying"}
    ]
    share = ratio if ratio is not None else rules.sample_ratio
    drawn = set(draw_sample(candidates, ratio=share, seed=seed, minimum=rules.sample_minimum))
    verdicts = tuple(
        judge(
            line,
            open_vetoes=open_vetoes.get(line.account.id, {}),
            checked_at=report.as_of,
            rules=rules,
            tz=tz,
        )
        for line in report.accounts
        if line.account.id in drawn
    )
    inspection = Inspection(report.as_of, share, seed, tuple(sorted(candidates)), verdicts)
    return replace(report, inspection=inspection)
