"""The lists a digest's buttons open (new problems, dormant accounts, broken feeds, accounts
below plan), sent to the reader in private so the digest itself stays as it was."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import DormancyState
from governance.clock import Clock
from governance.errors import InvalidInput, PermissionDenied
from governance.i18n import N_
from governance.roles import Actor
from handlers.callbacks import AccOpen, DigestList
from handlers.guards import member
from handlers.keyboards import Keyboard
from handlers.render import category_label, esc
from handlers.replies import reply_to
from models.accounts import Account
from models.alerts import AlertState
from models.feeds import POLLED_STATUSES
from models.findings import StoredFinding

router = Router(name=__name__)

LIMIT = 20
TITLES = {
    "problems": N_("近 {days} 天新发现的问题"),
    "feeds": N_("监测源异常的账号"),
    "below_plan": N_("低于承诺更新频率的账号"),
    "dormant": N_("不更新（僵尸号）的账号"),
}
DORMANT = (DormancyState.DORMANT, DormancyState.CLOSURE_CANDIDATE)


@router.callback_query(DigestList.filter())
async def digest_list(
    query: CallbackQuery,
    callback_data: DigestList,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = member(actor)
    unit_id = callback_data.unit_id
    if not checked.is_admin and (not unit_id or not checked.belongs_to(unit_id)):
        raise PermissionDenied(N_("你只能查看本单位的账号。"))
    if callback_data.kind not in TITLES or not 1 <= callback_data.days <= 31:
        raise InvalidInput(N_("该清单不存在。"))
    lines = ["<b>" + _(TITLES[callback_data.kind]).format(days=callback_data.days) + "</b>"]
    shown: list[tuple[int, str]] = []
    if callback_data.kind == "problems":
        stmt = (
            select(StoredFinding, Account)
            .join(Account, col(Account.id) == StoredFinding.account_id)
            .where(StoredFinding.found_at >= clock.now() - timedelta(days=callback_data.days))
            .order_by(col(StoredFinding.id).desc())
        )
        if unit_id:
            stmt = stmt.where(Account.unit_id == unit_id)
        seen: set[str] = set()
        for finding, account in await session.exec(stmt.limit(500)):
            if finding.account_key in seen:
                continue
            seen.add(finding.account_key)
            lines.append(
                f"• #{account.id} {esc(account.name)} · {category_label(finding.category)}："
                f"{esc(finding.text)}"
            )
            shown.append((account.id or 0, account.name))
    else:
        flag = {
            "feeds": col(AlertState.feed_broken).is_(True),
            "below_plan": col(AlertState.below_plan).is_(True),
            "dormant": col(AlertState.state).in_(DORMANT),
        }[callback_data.kind]
        flagged = (
            select(Account)
            .join(AlertState, col(AlertState.account_id) == Account.id)
            .where(flag, col(Account.status).in_(POLLED_STATUSES))
            .order_by(col(Account.id))
        )
        if unit_id:
            flagged = flagged.where(Account.unit_id == unit_id)
        for account in await session.exec(flagged.limit(200)):
            lines.append(f"• #{account.id} {esc(account.name)}")
            shown.append((account.id or 0, account.name))
    if len(lines) > LIMIT + 1:
        lines = [*lines[: LIMIT + 1], _("……另有 {n} 项").format(n=len(lines) - LIMIT - 1)]
    if len(lines) == 1:
        lines.append(_("无。"))
    kb = Keyboard()
    for account_id, name in list(dict.fromkeys(shown))[:10]:
        kb.button(text=f"#{account_id} {name[:20]}", callback_data=AccOpen(account_id=account_id))
    kb.adjust(2)
    await query.answer()
    await reply_to(query, "\n".join(lines), reply_markup=kb.as_markup())
