"""Every button's callback data, in one place.

Callback data carries ids and choices, never rights: who may act is checked against the
database when the button is pressed. Prefixes are short so packed data stays under 64 bytes.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from pydantic import BaseModel

from governance.activity import DormancyState
from governance.cases import CaseStatus


class PageCursor(BaseModel):
    """The cursor every paged list's buttons carry (see :mod:`models.paging`): the page starts
    after the row with sort key ``key`` and id ``rid`` (before it when ``back``); ``rid`` 0 is
    the first page. A list's own callback data adds its filters. ``of``: the list's total as
    counted when it was opened (0: count again), so that a page turn need not count."""

    key: int = 0
    rid: int = 0
    back: bool = False
    of: int = 0


class UnitAddParent(CallbackData, prefix="up"):
    parent_id: int  # 0: a top-level unit


class InviteUnit(CallbackData, prefix="iu"):
    unit_id: int  # 0: no unit (admin invitations)


class InviteRole(CallbackData, prefix="ir"):
    unit_id: int
    role: str


class InviteRevoke(CallbackData, prefix="ix"):
    invitation_id: int


class UsersUnit(CallbackData, PageCursor, prefix="uu"):
    unit_id: int  # 0: people without a unit


class UnitPurpose(StrEnum):
    """What picking a unit in the unit tree leads to."""

    BROWSE = "b"  # /units: the tree itself
    ACCOUNTS = "a"
    USERS = "u"
    DORMANT = "d"
    CASES = "c"
    PARENT = "p"  # the parent of a unit being added (/units dialog)
    ROUTES = "r"  # the unit whose review routes are set (/routes)
    INVITE = "i"  # the unit a colleague is invited to (/invite)
    REGISTER = "g"  # an account's unit (/register)


class UnitTree(CallbackData, PageCursor, prefix="ut"):
    """One level of the unit tree: the children of ``parent_id`` (0: top-level units)."""

    parent_id: int = 0
    purpose: UnitPurpose = UnitPurpose.BROWSE


class UserOpen(CallbackData, prefix="uo"):
    user_id: int


class UserRoleToggle(CallbackData, prefix="ur"):
    user_id: int
    role: str


class UserActive(CallbackData, prefix="ua"):
    user_id: int
    active: bool


class RegPlatform(CallbackData, prefix="rp"):
    platform: str


class RegUnit(CallbackData, prefix="ru"):
    unit_id: int


class RegPerson(CallbackData, PageCursor, prefix="rr"):
    user_id: int  # 0: refresh the list (rid 0) or turn its page


class RegFeed(CallbackData, prefix="rf"):
    action: str  # skip | retry | derived (the feed derived from the platform id on RSSHub)


class RegConfirm(CallbackData, prefix="rc"):
    action: str  # confirm | edit | cancel


class RegEdit(CallbackData, prefix="re"):
    field: str


class AccList(CallbackData, PageCursor, prefix="al"):
    unit_id: int = 0
    platform: str = ""
    status: str = ""


class AccFilterMenu(CallbackData, prefix="am"):
    kind: str  # unit | platform | status | clear
    unit_id: int = 0
    platform: str = ""
    status: str = ""


class AccOpen(CallbackData, prefix="ao"):
    account_id: int


class WebOpen(CallbackData, prefix="wo"):
    """A government website's card (its account id)."""

    account_id: int


class AccAction(CallbackData, prefix="aa"):
    account_id: int
    action: str  # edit | person | suspend | resume | close | cancel | history
    version: int


class AccField(CallbackData, prefix="af"):
    account_id: int
    field: str
    version: int


class AccPerson(CallbackData, PageCursor, prefix="ap"):
    account_id: int
    user_id: int  # 0: turn the picker's page
    version: int


class RegDecision(CallbackData, prefix="rd"):
    account_id: int
    approve: bool
    version: int


class DialogCancel(CallbackData, prefix="dc"):
    pass


class WordsAdd(CallbackData, prefix="wa"):
    kind: str


class WordsCategory(CallbackData, prefix="wc"):
    category: str


class WordsList(CallbackData, prefix="wl"):
    page: int = 0


class WordsRemove(CallbackData, prefix="wr"):
    rule_id: int
    page: int = 0


class WordsTry(CallbackData, prefix="wt"):
    pass


class DormantList(CallbackData, PageCursor, prefix="dl"):
    unit_id: int = 0  # 0: every unit the reader may see
    state: DormancyState | None = None  # at least this silent; None: every monitored account


class CheckAccount(CallbackData, prefix="ck"):
    account_id: int


class OutboxRetry(CallbackData, prefix="or"):
    message_id: int = 0  # 0: every failed notice


class LedgerMenu(CallbackData, prefix="lm"):
    action: str  # export | template | help


class LedgerImportValid(CallbackData, prefix="lv"):
    digest: str  # the uploaded file's, so a button never imports a different file


class LedgerApply(CallbackData, prefix="la"):
    """Confirm a ledger's changes to registered accounts (after seeing the diff)."""

    digest: str
    valid_only: bool = False


# --- pre-publication review ------------------------------------------------------------------


class RvAct(CallbackData, prefix="rv"):
    """A button on an approver's card; ``round`` makes cards of earlier rounds stale."""

    review_id: int
    round: int
    action: str  # approve | comment | return | reject | history | open


class RvMine(CallbackData, prefix="rm"):
    review_id: int
    action: str  # open | withdraw | resubmit | history | export


class RvBulk(CallbackData, prefix="rb"):
    pass


class PendingKind(StrEnum):
    REVIEWS = "r"
    REGISTRATIONS = "g"


class PendingList(CallbackData, PageCursor, prefix="pq"):
    """A page of /pending: drafts waiting for the reader, or registrations for admins."""

    kind: PendingKind = PendingKind.REVIEWS


class SubAccount(CallbackData, PageCursor, prefix="sa"):
    account_id: int  # 0: turn the account picker's page


class SubStep(CallbackData, prefix="ss"):
    action: str  # done | notime | submit | resend | cancel


class RouteOpen(CallbackData, PageCursor, prefix="ro"):
    """A unit's route (account_id 0), an account's own route, or (-1) the unit's overview,
    whose account list pages with the cursor."""

    unit_id: int
    account_id: int = 0  # 0: the unit's route


class RouteEdit(CallbackData, PageCursor, prefix="rt"):
    action: str  # "people" with a cursor: a page of the stage's approver picker
    stage: int = -1
    value: int = 0


class DelegPick(CallbackData, prefix="dg"):
    user_id: int
    days: int = 0


class ExportPick(CallbackData, prefix="ex"):
    days: int


# --- reports -----------------------------------------------------------------------------------


class ReportPeriod(CallbackData, prefix="rpp"):
    kind: str  # week | month | last_month | quarter | last_quarter | year | dates | inspect


class ReportUnits(CallbackData, PageCursor, prefix="rpu"):
    """A page of the units an admin may pick as a report's scope."""

    kind: str
    start: int
    end: int


class ReportScope(CallbackData, prefix="rps"):
    kind: str
    start: int  # YYYYMMDD, the period's first day
    end: int  # YYYYMMDD, its last day
    unit_id: int = 0  # 0: every unit (admins only)


class CaseList(CallbackData, PageCursor, prefix="cl"):
    unit_id: int = 0  # 0: every unit the reader may see
    status: CaseStatus | None = None  # None: every active case


class CaseOpen(CallbackData, prefix="co"):
    case_id: int


class CaseAct(CallbackData, prefix="cx"):
    case_id: int
    action: str  # explain | interview | close | extend | resolve | waive
    version: int = 0  # 0: no version check (the action re-checks the state anyway)
    item: int = 0  # waive: which problem of the case


class CaseNew(CallbackData, prefix="cn"):
    account_id: int


class DigestList(CallbackData, prefix="dd"):
    kind: str  # problems | dormant | feeds | below_plan
    unit_id: int = 0
    days: int = 1


class ChanScope(CallbackData, prefix="hs"):
    unit_id: int  # 0: the office's own channel


class ChanKind(CallbackData, prefix="hk"):
    kind: str


class ChanAct(CallbackData, prefix="ha"):
    channel_id: int
    action: str  # test | pause | resume | delete


class TaskList(CallbackData, prefix="tl"):
    page: int = 0


class TaskNew(CallbackData, prefix="tn"):
    pass


class TaskOpen(CallbackData, prefix="to"):
    task_id: int
    page: int = 0


class TaskTarget(CallbackData, prefix="tg"):
    target_id: int
    action: str  # open | undo | confirm


class TaskClose(CallbackData, prefix="tc"):
    task_id: int
    cancel: bool = False  # withdraw (撤销) rather than end (结束)
    sure: bool = False  # pressed on the confirmation, not on the card


class TaskScope(CallbackData, prefix="ts"):
    kind: str  # governance.reposts.ScopeKind


class TaskPick(CallbackData, prefix="tp"):
    value: str  # a unit id or a platform value to toggle; "" when the choice is complete


class TaskDeadline(CallbackData, prefix="td"):
    days: int


class TaskHeadline(CallbackData, prefix="th"):
    counts: bool


class TaskConfirm(CallbackData, prefix="tk"):
    action: str  # confirm | cancel | skip_text


class TaskRecord(CallbackData, prefix="tr"):
    task_id: int
