"""Who receives a notice: the named audiences of ``governance.alerts.Audience`` as chats.

The one place that knows whether the office hears through its alert chat or admin by admin,
that an inactive person hears nothing, and that the actor is not told of their own action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.roles import Role
from models import people
from models.accounts import Account
from models.people import User


@dataclass(frozen=True, slots=True)
class To:
    """Recipients of one notice: named audiences around an account or a unit, and people.

    ``fallback`` is used when nobody else was found (a unit without managers still reaches the
    office); ``exclude`` is the actor, who is never told of their own action.
    """

    audience: frozenset[Audience] = frozenset()
    account: Account | None = None
    unit_id: int | None = None
    people: tuple[User, ...] = ()
    fallback: frozenset[Audience] = frozenset()
    exclude: int | None = field(default=None)

    @classmethod
    def person(cls, user: User | None) -> To:
        return cls(people=(user,) if user is not None else ())

    @classmethod
    def of(
        cls,
        *audience: Audience,
        account: Account | None = None,
        unit_id: int | None = None,
        fallback: Iterable[Audience] = (),
        exclude: int | None = None,
    ) -> To:
        return cls(
            audience=frozenset(audience),
            account=account,
            unit_id=unit_id,
            fallback=frozenset(fallback),
            exclude=exclude,
        )


async def chats(session: AsyncSession, to: To, *, alert_chat_id: int | None) -> list[int]:
    """Distinct chat ids in a stable order: people, responsible, managers, office."""
    found = await _resolve(session, to, to.audience, alert_chat_id=alert_chat_id)
    if not found and to.fallback:
        found = await _resolve(session, to, to.fallback, alert_chat_id=alert_chat_id)
    return list(dict.fromkeys(found))


async def _resolve(
    session: AsyncSession, to: To, wanted: frozenset[Audience], *, alert_chat_id: int | None
) -> list[int]:
    persons: list[User] = list(to.people)
    office: list[int] = []
    unit_id = to.unit_id if to.unit_id is not None else (to.account.unit_id if to.account else None)
    if Audience.RESPONSIBLE in wanted and to.account and to.account.responsible_id is not None:
        responsible = await session.get(User, to.account.responsible_id)
        if responsible is not None:
            persons.append(responsible)
    if Audience.UNIT_MANAGERS in wanted and unit_id is not None:
        persons += await people.users_with_role(session, role=Role.UNIT_MANAGER, unit_id=unit_id)
    if Audience.EACH_ADMIN in wanted or (Audience.OFFICE in wanted and alert_chat_id is None):
        persons += await people.users_with_role(session, role=Role.ADMIN)
    if alert_chat_id is not None and wanted & {Audience.OFFICE, Audience.ALERT_CHAT}:
        office.append(alert_chat_id)
    chosen = [
        p.telegram_id for p in persons if p.active and (to.exclude is None or p.id != to.exclude)
    ]
    return chosen + office
