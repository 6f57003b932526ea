"""What the review workflows share: audit rows, times as shown, card limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.drafttext import Place
from governance.precheck import snippets
from governance.quality import Finding
from governance.quality.pii import mask_pii
from governance.vocabulary import Category, Severity
from models import audit
from models.people import User
from models.reviews import (
    Review,
)
from workflows.notices import CardFinding

CARD_FINDINGS_MAX = 8


def shown_time(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def snapshot(review: Review) -> dict[str, Any]:
    return {
        "status": review.status,
        "stage_index": review.stage_index,
        "round": review.round,
        "draft_version": review.draft_version,
    }


async def audit_review(
    session: AsyncSession,
    review: Review,
    *,
    action: str,
    actor_id: int | None,
    now: datetime,
    before: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    await audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action=action,
        object_type="review",
        object_id=review.id,
        before=before,
        after={**snapshot(review), **(extra or {})},
        note=note,
    )


async def users_by_id(session: AsyncSession, ids: set[int | None]) -> dict[int, User]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.exec(select(User).where(col(User.id).in_(wanted)))
    return {u.id: u for u in rows if u.id is not None}


def stored_finding(raw: dict[str, Any]) -> Finding:
    # Stored findings already hold the masked text; Finding.shown then keeps it as it is.
    return Finding(
        Category(raw["category"]),
        Severity(raw["severity"]),
        int(raw["start"]),
        int(raw["end"]),
        raw.get("text") or "",
        raw.get("text") if raw["category"] == "pii" else raw.get("suggestion"),
        raw.get("rule") or "",
    )


def stored_place(raw: dict[str, Any]) -> Place | None:
    return Place.from_dict(raw.get("where"))


def card_findings(
    text: str,
    findings: list[Finding],
    *,
    places: Sequence[Place | None] = (),
    limit: int = CARD_FINDINGS_MAX,
) -> list[CardFinding]:
    """The first ``limit`` findings in their context, as a card shows them (PII masked), with
    their place in an uploaded document: the approver's card and the submitter's pre-check
    share it."""
    shown = findings[:limit]
    return [
        CardFinding(
            category=s.category,
            severity=s.severity,
            before=mask_pii(s.before),
            hit=s.hit,
            after=mask_pii(s.after),
            suggestion=f.suggestion if f.category == Category.UNREADABLE else s.suggestion,
            rule=f.rule,
            place=places[index] if index < len(places) else None,
        )
        for index, (f, s) in enumerate(zip(shown, snippets(text, shown), strict=True))
    ]
