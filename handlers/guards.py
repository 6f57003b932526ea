"""Refusals shared by every handler: strangers, disabled people, missing roles."""

from __future__ import annotations

from collections.abc import Callable

from governance.errors import PermissionDenied
from governance.i18n import N_
from governance.roles import Actor


def member(actor: Actor | None) -> Actor:
    """The actor, if they are an active person with at least one role."""
    if actor is None:
        raise PermissionDenied(N_("请先私聊机器人并通过邀请链接加入。"))
    if not actor.active:
        raise PermissionDenied(N_("你的账号已被停用，如有疑问请联系管理员。"))
    if not actor.roles:
        raise PermissionDenied(N_("你还没有加入任何单位，请先通过邀请链接加入。"))
    return actor


def require(actor: Actor | None, rule: Callable[[Actor], bool], message: str) -> Actor:
    checked = member(actor)
    if not rule(checked):
        raise PermissionDenied(message)
    return checked
