"""What the review workflows share: audit rows, times as shown, card limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.quality import Finding
from governance.vocabulary import Category, Severity
from models import audit
from models.people import User
from models.reviews import (
    Review,
)

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
    rows = await session.exec(select(User).where(col(User.id).in_(wanted))) if wanted else []
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
