"""Notices about the registry: registrations, responsibility, status, people and roles."""

from __future__ import annotations

from workflows.notices.base import Notice, notice, part


@part
class AccountSummary(Notice):
    """An account as the registration card shows it, fixed when the notice is queued."""

    account_id: int
    version: int = 1
    name: str
    platform: str
    platform_ref: str = ""
    unit: str = ""
    responsible: str = ""
    posts_per_week: int = 0
    necessity: str = ""
    operating_plan: str = ""
    feed_url: str = ""
    duplicate_reason: str = ""


@notice("registration.pending")
class RegistrationPending(AccountSummary):
    """A unit manager's registration waits for an admin's decision (card with buttons)."""

    applicant: str

    def dedup_key(self) -> str:
        return f"registration.pending:{self.account_id}:{self.version}"


@notice("registration.decided")
class RegistrationDecided(Notice):
    account_id: int
    name: str
    approved: bool
    decider: str
    reason: str = ""

    def dedup_key(self) -> str:
        return f"registration.decided:{self.account_id}"


@notice("account.responsible_assigned")
class ResponsibleAssigned(AccountSummary):
    """Someone became responsible for an account (registration, approval or a change)."""

    responsible_id: int = 0

    def dedup_key(self) -> str:
        return f"responsible:{self.account_id}:{self.responsible_id}:{self.version}"


@notice("account.status_changed")
class AccountStatusChanged(Notice):
    account_id: int = 0
    version: int = 0
    name: str
    status: str
    reason: str = ""
    who: str

    def dedup_key(self) -> str:
        return f"status:{self.account_id}:{self.version}"


@notice("invitation.accepted")
class InvitationAccepted(Notice):
    invitation_id: int = 0
    who: str
    unit: str = ""
    role: str

    def dedup_key(self) -> str:
        return f"invitation.accepted:{self.invitation_id}"


@notice("user.roles_changed")
class RolesChanged(Notice):
    who: str
    roles: list[str]


@notice("user.active_changed")
class ActiveChanged(Notice):
    who: str
    active: bool
