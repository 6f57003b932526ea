"""Group robots (WeCom, DingTalk, Feishu) the office or a unit receives notices in.

The webhook carries the robot's key or token and the secret signs requests: both are stored as
given (the database is the office's own) but never logged and only ever shown masked
(:func:`governance.robots.mask_webhook`, :func:`governance.robots.mask_secret`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.robots import RobotKind
from models.base import EnumString, UTCDateTime


class RobotChannel(SQLModel, table=True):
    __tablename__ = "robot_channels"

    id: int | None = Field(default=None, primary_key=True)
    kind: RobotKind = Field(sa_type=EnumString(RobotKind, 16))
    name: str = Field(max_length=60)
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    """``None``: the office's own channel (政务公开办)."""
    webhook: str = Field(max_length=1000)
    secret: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime())
    created_by: int | None = Field(default=None, foreign_key="users.id")


def office_scope(unit_id: int | None) -> sa.ColumnElement[bool]:
    column = col(RobotChannel.unit_id)
    return column.is_(None) if unit_id is None else column == unit_id


async def active_channels(session: AsyncSession, *, unit_id: int | None) -> list[RobotChannel]:
    """The active robots of one unit, or of the office with ``unit_id=None``."""
    rows = await session.exec(
        select(RobotChannel)
        .where(office_scope(unit_id), col(RobotChannel.active).is_(True))
        .order_by(col(RobotChannel.id))
    )
    return list(rows)


async def channels_of(session: AsyncSession, *, unit_ids: list[int] | None) -> list[RobotChannel]:
    """Every channel (active or paused) of the office and ``unit_ids`` (``None``: all units)."""
    stmt = select(RobotChannel).order_by(col(RobotChannel.unit_id), col(RobotChannel.id))
    if unit_ids is not None:
        stmt = stmt.where(col(RobotChannel.unit_id).in_(unit_ids))
    return list(await session.exec(stmt))


async def add_channel(
    session: AsyncSession,
    *,
    kind: RobotKind,
    name: str,
    unit_id: int | None,
    webhook: str,
    secret: str | None,
    now: datetime,
    created_by: int | None,
) -> RobotChannel:
    channel = RobotChannel(
        kind=kind,
        name=name,
        unit_id=unit_id,
        webhook=webhook,
        secret=secret,
        created_at=now,
        created_by=created_by,
    )
    session.add(channel)
    await session.flush()
    return channel
