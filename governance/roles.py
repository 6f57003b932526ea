"""Roles and who may do what.

Permissions are decided here, from facts the caller loads from the database (the actor's roles
and unit, the target's unit), so every command and every button press can be checked
server-side with the same rules, and the rules can be tested without a bot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from governance.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    UNIT_MANAGER = "unit_manager"
    APPROVER = "approver"
    EDITOR = "editor"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: N_("管理员"),
    Role.UNIT_MANAGER: N_("单位管理员"),
    Role.APPROVER: N_("审核人"),
    Role.EDITOR: N_("编辑"),
}

#: Order in which roles are shown and in which greetings pick the "highest" role.
ROLE_ORDER: tuple[Role, ...] = (Role.ADMIN, Role.UNIT_MANAGER, Role.APPROVER, Role.EDITOR)


@dataclass(frozen=True, slots=True)
class Actor:
    """What the rules need to know about the person acting."""

    user_id: int
    unit_id: int | None
    roles: frozenset[Role]
    active: bool = True

    @property
    def is_admin(self) -> bool:
        return self.active and Role.ADMIN in self.roles

    @property
    def is_unit_manager(self) -> bool:
        return self.active and Role.UNIT_MANAGER in self.roles

    def manages(self, unit_id: int | None) -> bool:
        """True for admins, and for unit managers of ``unit_id``."""
        return self.is_admin or (
            self.is_unit_manager and unit_id is not None and unit_id == self.unit_id
        )

    def belongs_to(self, unit_id: int | None) -> bool:
        return self.active and unit_id is not None and unit_id == self.unit_id


def sort_roles(roles: Iterable[Role]) -> list[Role]:
    present = set(roles)
    return [r for r in ROLE_ORDER if r in present]


def can_manage_units(actor: Actor) -> bool:
    return actor.is_admin


def invitable_roles(actor: Actor, unit_id: int | None) -> list[Role]:
    """Roles ``actor`` may hand out by invitation into ``unit_id`` (None: no unit)."""
    if actor.is_admin:
        return list(ROLE_ORDER) if unit_id is not None else [Role.ADMIN]
    if actor.is_unit_manager and unit_id is not None and unit_id == actor.unit_id:
        return [Role.UNIT_MANAGER, Role.APPROVER, Role.EDITOR]
    return []


def can_invite(actor: Actor) -> bool:
    return actor.is_admin or actor.is_unit_manager


def can_register_account(actor: Actor) -> bool:
    return actor.is_admin or actor.is_unit_manager


def registration_needs_approval(actor: Actor) -> bool:
    """Admins' registrations take effect at once; unit managers' wait for an admin."""
    return not actor.is_admin


def can_approve_registration(actor: Actor) -> bool:
    return actor.is_admin


def can_view_account(actor: Actor, account_unit_id: int) -> bool:
    return actor.is_admin or actor.belongs_to(account_unit_id)


def can_edit_account(actor: Actor, account_unit_id: int) -> bool:
    return actor.manages(account_unit_id)


def can_change_account_status(actor: Actor) -> bool:
    return actor.is_admin


def can_list_users(actor: Actor, unit_id: int | None) -> bool:
    return actor.is_admin or (unit_id is not None and actor.manages(unit_id))


def can_change_roles(actor: Actor) -> bool:
    return actor.is_admin


def can_import_ledger(actor: Actor) -> bool:
    return actor.is_admin


def can_export_ledger(actor: Actor, unit_id: int | None) -> bool:
    """Admins export the whole registry (or one unit); unit managers their own unit."""
    return actor.is_admin or (unit_id is not None and actor.manages(unit_id))


# --- pre-publication review ---------------------------------------------------------------------


def can_edit_routes(actor: Actor, unit_id: int | None) -> bool:
    """Admins for every unit, unit managers for their own."""
    return unit_id is not None and actor.manages(unit_id)


def can_submit_draft(actor: Actor) -> bool:
    """Anyone active who belongs to a unit may submit drafts for that unit's accounts."""
    return actor.active and actor.unit_id is not None and bool(actor.roles)


def can_view_review(actor: Actor, unit_id: int, *, participant: bool = False) -> bool:
    """Admins, the unit's members and whoever was asked to review it."""
    return actor.is_admin or actor.belongs_to(unit_id) or (actor.active and participant)


def can_export_reviews(actor: Actor) -> bool:
    return actor.is_admin
