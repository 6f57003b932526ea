"""Renderers of the notices about group-robot channels."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.delivery import Rendered, Renderer
from handlers.render import esc
from workflows.notices import RobotTest


def robot_test(n: RobotTest) -> Rendered:
    text = _(
        "<b>测试消息</b>\n渠道「{name}」已接通政务新媒体治理机器人（由 {who} 发起测试）。"
    ).format(name=esc(n.channel_name), who=esc(n.requested_by))
    return text, None


ROBOT_RENDERERS: tuple[Renderer, ...] = (robot_test,)
