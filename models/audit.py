"""The append-only audit log: who changed what, from what to what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime(), index=True)
    actor_id: int | None = Field(default=None, index=True)  # users.id; None for the system
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    note: str | None = Field(default=None, max_length=500)

    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse any update or delete of an audit row: the log is evidence."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry):
            raise PermissionError("the audit log is append-only")


async def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """Append one audit row in the caller's transaction."""
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        note=note[:500] if note else None,
    )
    session.add(entry)
    await session.flush()
    return entry


async def history(
    session: AsyncSession, *, object_type: str, object_id: object, limit: int = 50
) -> list[AuditEntry]:
    rows = await session.exec(
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(col(AuditEntry.id).desc())
        .limit(limit)
    )
    return list(rows)
