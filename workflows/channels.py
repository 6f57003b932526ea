"""Group-robot channels as admins and unit managers keep them: add, test, pause, resume, remove.

Who may: admins for the office and every unit, unit managers for their own unit. Every change
is audited with the webhook and secret masked; a test goes through the outbox like any notice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import InvalidInput, NotFound, PermissionDenied
from governance.i18n import N_
from governance.registry import clean_line
from governance.robots import LIMITS, RobotKind, mask_secret, mask_webhook, webhook_looks_right
from governance.roles import Actor
from models import audit
from models import robots as channels
from models.outbox import OutboxMessage, OutboxStatus
from models.robots import RobotChannel
from workflows.notices import RobotTest
from workflows.notify import enqueue_robot

NAME_MAX = 60
SECRET_MAX = 200


def may_manage(actor: Actor, unit_id: int | None) -> bool:
    """Admins keep the office's and every unit's robots; unit managers their unit's."""
    return actor.manages(unit_id)


def _snapshot(channel: RobotChannel) -> dict[str, object]:
    return {
        "kind": channel.kind.value,
        "name": channel.name,
        "unit_id": channel.unit_id,
        "webhook": mask_webhook(channel.webhook),
        "secret": mask_secret(channel.secret),
        "active": channel.active,
    }


def check_webhook(kind: RobotKind, url: str) -> str:
    text = url.strip()
    if not webhook_looks_right(kind, text):
        raise InvalidInput(
            N_("这不像该平台的机器人 Webhook 地址，请从群机器人设置中复制完整地址。")
        )
    return text


def check_secret(kind: RobotKind, secret: str) -> str | None:
    if not LIMITS[kind].signs:
        return None
    text = secret.strip()
    if not text or len(text) > SECRET_MAX or any(c.isspace() for c in text):
        raise InvalidInput(N_("请发送机器人安全设置中的“加签”密钥（一行，不含空格）。"))
    return text


async def add(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: RobotKind,
    unit_id: int | None,
    webhook: str,
    secret: str | None,
    name: str,
    now: datetime,
) -> RobotChannel:
    if not may_manage(actor, unit_id):
        raise PermissionDenied(N_("你只能管理本单位的机器人渠道。"))
    label = clean_line(name)[:NAME_MAX]
    if not label:
        raise InvalidInput(N_("请给这个渠道起个名字，如“办公室值班群”。"))
    channel = await channels.add_channel(
        session,
        kind=kind,
        name=label,
        unit_id=unit_id,
        webhook=check_webhook(kind, webhook),
        secret=check_secret(kind, secret or ""),
        now=now,
        created_by=actor.user_id,
    )
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="robot_channel.add",
        object_type="robot_channel",
        object_id=channel.id,
        after=_snapshot(channel),
    )
    return channel


async def _get(session: AsyncSession, actor: Actor, channel_id: int) -> RobotChannel:
    channel = await session.get(RobotChannel, channel_id)
    if channel is None:
        raise NotFound(N_("该机器人渠道不存在或已删除。"))
    if not may_manage(actor, channel.unit_id):
        raise PermissionDenied(N_("你只能管理本单位的机器人渠道。"))
    return channel


async def test(
    session: AsyncSession, *, actor: Actor, channel_id: int, actor_name: str, now: datetime
) -> RobotChannel:
    channel = await _get(session, actor, channel_id)
    if not channel.active:
        raise InvalidInput(N_("该渠道已暂停，请先恢复再测试。"))
    await enqueue_robot(
        session,
        RobotTest(channel_name=channel.name, requested_by=actor_name),
        channel_id=channel_id,
        now=now,
    )
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="robot_channel.test",
        object_type="robot_channel",
        object_id=channel_id,
    )
    return channel


async def set_active(
    session: AsyncSession, *, actor: Actor, channel_id: int, active: bool, now: datetime
) -> RobotChannel:
    channel = await _get(session, actor, channel_id)
    before = _snapshot(channel)
    channel.active = active
    session.add(channel)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="robot_channel.resume" if active else "robot_channel.pause",
        object_type="robot_channel",
        object_id=channel_id,
        before=before,
        after=_snapshot(channel),
    )
    return channel


async def remove(
    session: AsyncSession, *, actor: Actor, channel_id: int, now: datetime
) -> RobotChannel:
    """Delete the channel; its queued rows are given up and detached from it (kept as history)."""
    channel = await _get(session, actor, channel_id)
    before = _snapshot(channel)
    await session.exec(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.channel_id) == channel_id,
            col(OutboxMessage.status).in_([OutboxStatus.PENDING.value, OutboxStatus.FAILED.value]),
        )
        .values(status=OutboxStatus.GAVE_UP.value, error="robot channel removed")
    )
    await session.exec(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.channel_id) == channel_id)
        .values(channel_id=None)
    )
    await session.delete(channel)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="robot_channel.remove",
        object_type="robot_channel",
        object_id=channel_id,
        before=before,
    )
    return channel


async def visible(session: AsyncSession, actor: Actor) -> list[RobotChannel]:
    """The channels ``actor`` keeps: all for admins, their unit's for unit managers."""
    if actor.is_admin:
        return await channels.channels_of(session, unit_ids=None)
    if actor.is_unit_manager and actor.unit_id is not None:
        return await channels.channels_of(session, unit_ids=[actor.unit_id])
    return []
