"""Renderers of the website alerts (outage, recovery, a veto rule failing)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import WebOpen
from handlers.delivery import Rendered, Renderer
from handlers.keyboards import Keyboard
from handlers.render import esc
from workflows.notices import SiteDownAlert, SiteRecoveredAlert, WebsiteVetoAlert


def _button(account_id: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("查看网站"), callback_data=WebOpen(account_id=account_id))
    return kb.as_markup()


def website_down(n: SiteDownAlert) -> Rendered:
    lines = [
        _("🚨 网站无法访问：{unit}的“{name}”首页已连续 {n} 次打不开。").format(
            unit=esc(n.unit), name=esc(n.name), n=n.failures
        ),
        esc(n.url),
        _("原因：{why}").format(why=esc(n.error or "—")),
        _("开始时间：{at}").format(at=esc(n.since)),
        _("监测1周内打不开的次数达到5%即为“站点无法访问”单项否决，请立即排查服务器和网络。"),
    ]
    return "\n".join(lines), _button(n.account_id)


def website_recovered(n: SiteRecoveredAlert) -> Rendered:
    text = _("✅ 网站恢复访问：{unit}的“{name}”首页已能正常打开（自 {since} 起中断）。").format(
        unit=esc(n.unit), name=esc(n.name), since=esc(n.since)
    )
    return text, _button(n.account_id)


def _reason(n: WebsiteVetoAlert) -> str:
    values = {k: _(v) if isinstance(v, str) else v for k, v in n.values.items()}
    try:
        return _(n.reason).format(**values)
    except (KeyError, IndexError, ValueError):
        return _(n.reason)


def website_veto(n: WebsiteVetoAlert) -> Rendered:
    lines = [
        _("🚨 网站单项否决：{unit}的“{name}”{indicator}。").format(
            unit=esc(n.unit), name=esc(n.name), indicator=esc(_(n.indicator))
        ),
        _("情况：{reason}").format(reason=esc(_reason(n))),
        _("请责任人立即整改，并向政务公开办报告整改情况。"),
    ]
    return "\n".join(lines), _button(n.account_id)


WEBSITE_RENDERERS: tuple[Renderer, ...] = (website_down, website_recovered, website_veto)
