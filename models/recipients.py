"""Who hears about an account: the chats behind an audience (responsible, unit, office)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.roles import Role
from models import people
from models.accounts import Account
from models.people import User


async def audience_chats(
    session: AsyncSession,
    *,
    account: Account,
    audience: Iterable[Audience],
    alert_chat_id: int | None,
) -> list[int]:
    """Distinct chat ids, in order: responsible person, unit managers, the office."""
    wanted = frozenset(audience)
    chats: list[int] = []
    if Audience.RESPONSIBLE in wanted and account.responsible_id is not None:
        person = await session.get(User, account.responsible_id)
        if person is not None and person.active:
            chats.append(person.telegram_id)
    if Audience.UNIT_MANAGERS in wanted:
        managers = await people.users_with_role(
            session, role=Role.UNIT_MANAGER, unit_id=account.unit_id
        )
        chats += [m.telegram_id for m in managers]
    if Audience.ALERT_CHAT in wanted and alert_chat_id is not None:
        chats.append(alert_chat_id)
    if Audience.ADMINS in wanted:
        # The admins' alert chat when there is one; otherwise each admin in private.
        if alert_chat_id is not None:
            chats.append(alert_chat_id)
        else:
            admins = await people.users_with_role(session, role=Role.ADMIN)
            chats += [a.telegram_id for a in admins]
    return list(dict.fromkeys(chats))
