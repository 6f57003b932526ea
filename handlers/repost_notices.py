"""Renderers of repost task (转载任务) notices: the assignment and the two reminders."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.callbacks import TaskOpen
from handlers.delivery import Rendered, Renderer
from handlers.keyboards import Keyboard
from handlers.render import esc, platform_label, safe_link
from workflows.notices import RepostAssigned, RepostReminder
from workflows.notices.reposts import RepostNotice


def _body(n: RepostNotice) -> str:
    lines = [
        _("任务：#{id}《{title}》").format(id=n.task_id, title=esc(n.title)),
        _("账号：{account}（{platform}）").format(
            account=esc(n.account), platform=platform_label(n.platform)
        ),
        _("截止时间：{deadline}").format(deadline=esc(n.deadline)),
    ]
    link = safe_link(n.link)
    if link:
        lines.append(_("原文链接：{link}").format(link=esc(link)))
    if n.headline_counts:
        lines.append(_("仅转发标题（附链接）也计为完成。"))
    else:
        lines.append(_("请转载全文或附原文链接；仅转标题不计为完成。"))
    return "\n".join(lines)


def _card(n: RepostNotice) -> Keyboard:
    kb = Keyboard()
    kb.button(text=_("查看任务"), callback_data=TaskOpen(task_id=n.task_id))
    return kb


def repost_assigned(n: RepostAssigned) -> Rendered:
    text = _("📣 新的转载任务，请按时转载：") + "\n" + _body(n)
    text += "\n" + _("转载后机器人会自动识别，无需回复。")
    return text, _card(n).as_markup()


def repost_reminder(n: RepostReminder) -> Rendered:
    if n.stage == "deadline":
        head = _("⏰ 转载任务已到截止时间，该账号仍未转载：")
    else:
        head = _("⏳ 转载任务即将截止，该账号尚未转载：")
    return head + "\n" + _body(n), _card(n).as_markup()


REPOST_RENDERERS: tuple[Renderer, ...] = (repost_assigned, repost_reminder)
