"""The demo's guided tour: what each person might try next, appended to /start in demo mode.

Only ``python -m bot demo`` sets ``DEMO_TOUR``; the texts name the demo's seeded accounts and
people, so they mean nothing in a real office.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from governance.roles import Role


def tour(roles: frozenset[Role]) -> str:
    """The tour's next steps for someone with ``roles`` (the most powerful role leads)."""
    lines = ["", "", _("🧭 <b>演示导览</b>（只在演示模式出现）")]
    if Role.ADMIN in roles:
        lines += [
            _("1. /register 用按钮登记一个新账号：平台、名称、单位、责任人，订阅源可暂不填写。"),
            _("2. /dormant 查看不更新账号排行；/monitor 查看监测运行状况和异常的监测源。"),
            _("3. 左侧“政务公开办预警群”收到预警；点“快进 1 天”，“教育发布”会变成僵尸号。"),
            _("4. /report 生成上一季度的报表，下载工作簿和图表。"),
        ]
    elif Role.UNIT_MANAGER in roles:
        lines += [
            _("1. /routes 查看本单位的三级审核流程（初审 → 复审 → 终审）。"),
            _("2. /accounts 查看本单位账号；“区教育局微博”有未经审核发布的文章。"),
            _("3. /invite 生成邀请链接；点击链接，左侧的“新同事”就会用它加入本单位。"),
        ]
    elif Role.APPROVER in roles:
        lines += [
            _("1. 送审稿卡片会出现在这里：点“通过”“退回修改”或“驳回”。"),
            _("2. /pending 列出等你审核的稿件；初审、复审、终审依次由三个人负责。"),
            _("3. 切换到左侧的其他审核人，继续下一环节。"),
        ]
    elif Role.EDITOR in roles:
        lines += [
            _("1. /submit 选择“教育发布”，发送稿件正文（可附图片或文件），点“完成”。"),
            _("2. 输入标题，选“不设定”发布时间，看自动预检结果后点“提交送审”。"),
            _("3. /mine 查看送审进度；审核通过后会收到通知。"),
        ]
    else:
        lines.append(_("在左侧切换身份，试试管理员、单位管理员、审核人和编辑各自能做什么。"))
    return "\n".join(lines)
