"""Ledger import and export against the database: all or nothing, audited, lossless."""

from __future__ import annotations

import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from documents.ledgerbook import ledger_workbook, read_table
from governance.clock import ManualClock
from governance.errors import PermissionDenied
from governance.ledgertable import HEADERS
from governance.registry import PLATFORM_LABELS, AccountStatus
from governance.roles import Actor, Role
from models import accountchanges, accounts, invitations, ledger, people
from models.accounts import Account, AccountDraft
from models.audit import AuditEntry
from models.people import Invitation, Unit, User

pytestmark = pytest.mark.both_backends

TTL = timedelta(days=7)
NECESSITY = "发布教育政策和招生信息，回应家长关切。"
PLAN = "每周三条：政策解读、招生通知、校园动态；办公室编辑，分管领导审核。"


def line(
    unit: str, platform: str, name: str, ref: str, person: str, **extra: object
) -> list[object]:
    values = {
        "同平台多账号理由": "",
        "订阅源地址": "",
        "状态": "在用",
        "状态说明": "",
        **extra,
    }
    return [unit, platform, name, ref, person, extra.get("每周", 3), NECESSITY, PLAN] + [
        values[h] for h in HEADERS[8:]
    ]


def xlsx_table(rows: list[list[object]]) -> list[list[object]]:
    return read_table(ledger_workbook(rows), "台账.xlsx")


async def _admin(session: AsyncSession, clock: ManualClock) -> Actor:
    user, _ = await people.bootstrap_admin(
        session, telegram_id=1001, now=clock.now(), name="王主任"
    )
    await session.commit()
    return await people.actor_for(session, user)


async def _count(session: AsyncSession, model: type, *where: object) -> int:
    return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


async def _member(
    session: AsyncSession, clock: ManualClock, unit: str, name: str, tid: int
) -> User:
    found = (await session.exec(select(Unit).where(Unit.name == unit))).first()
    if found is None:
        found = Unit(name=unit, created_at=clock.now())
        session.add(found)
        await session.flush()
    user = User(
        telegram_id=tid, name=name, unit_id=found.id, created_at=clock.now(), updated_at=clock.now()
    )
    session.add(user)
    await session.flush()
    await people.grant_role(session, user=user, role=Role.EDITOR, actor_id=None, now=clock.now())
    await session.commit()
    return user


async def test_a_clean_file_is_filed_whole_with_units_people_and_invitations(
    sessionmaker, clock
) -> None:
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        teacher = await _member(session, clock, "某区教育局", "李老师", 2002)
        result = await ledger.import_ledger(
            session,
            actor=admin,
            table=xlsx_table(
                [
                    line("某区教育局", "微信公众号", "教育发布", "jy_fabu", "李老师"),
                    line("某街道办", "微博", "街道发布", "https://weibo.com/jd", "王五"),
                    line("某街道办", "抖音", "街道抖音", "jd_douyin", "王五", 状态="申请中"),
                ]
            ),
            now=clock.now(),
            invite_ttl=TTL,
            source="台账.xlsx",
        )
        await session.commit()
        assert result.imported and len(result.accounts) == 3
        assert [u.name for u in result.units] == ["某街道办"]
        [pending] = result.pending
        assert (pending.name, pending.unit, pending.accounts) == ("王五", "某街道办", 2)
        assert pending.invitation.person_name == "王五" and pending.invitation.role == "editor"
        rows = list(await session.exec(select(Account).order_by(col(Account.id))))
        assert rows[0].responsible_id == teacher.id and rows[0].responsible_invitation_id is None
        assert {r.responsible_invitation_id for r in rows[1:]} == {pending.invitation.id}
        assert [r.status for r in rows] == ["active", "active", "pending"]
        assert rows[2].decided_by is None and rows[1].decided_by == admin.user_id
        actions = [e.action for e in await session.exec(select(AuditEntry))]
        assert actions.count("account.imported") == 3
        assert actions.count("unit.created") == 1 and actions.count("invitation.created") == 1


async def test_a_file_with_problems_files_nothing_unless_valid_rows_are_chosen(
    sessionmaker, clock
) -> None:
    table = xlsx_table(
        [
            line("某区教育局", "微信公众号", "教育发布", "jy_fabu", "李老师"),
            line("某区教育局", "推特", "教育推特", "jy_tw", "李老师"),
            line("某新单位", "微博", "新单位微博", "xdw", "赵六", 每周=0),
            line(
                "某区教育局",
                "微信公众号",
                "教育二号",
                "JY_FABU",
                "李老师",
                同平台多账号理由="专题服务",
            ),
        ]
    )
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        before = await _count(session, AuditEntry)
        result = await ledger.import_ledger(
            session, actor=admin, table=table, now=clock.now(), invite_ttl=TTL
        )
        await session.commit()
        assert not result.imported and result.validation.bad_rows == 3
        assert [(p.row, p.column) for p in result.validation.problems] == [
            (3, "平台"),
            (4, "每周计划发布条数"),
            (5, "平台账号ID或主页"),
        ]
        assert await _count(session, Account) == 0 and await _count(session, Unit) == 0
        assert (
            await _count(session, Invitation) == 0 and await _count(session, AuditEntry) == before
        )

        result = await ledger.import_ledger(
            session, actor=admin, table=table, now=clock.now(), invite_ttl=TTL, valid_only=True
        )
        await session.commit()
        assert result.imported and [a.name for a in result.accounts] == ["教育发布"]
        assert [u.name for u in result.units] == ["某区教育局"]


async def test_importing_again_changes_nothing_and_reuses_open_invitations(
    sessionmaker, clock
) -> None:
    first = [line("某街道办", "微博", "街道发布", "jd_wb", "王五")]
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        await ledger.import_ledger(
            session, actor=admin, table=xlsx_table(first), now=clock.now(), invite_ttl=TTL
        )
        await session.commit()
        again = await ledger.import_ledger(
            session, actor=admin, table=xlsx_table(first), now=clock.now(), invite_ttl=TTL
        )
        assert not again.imported and again.validation.clean and again.validation.unchanged == [2]
        more = [*first, line("某街道办", "抖音", "街道抖音", "jd_dy", "王五")]
        result = await ledger.import_ledger(
            session, actor=admin, table=xlsx_table(more), now=clock.now(), invite_ttl=TTL
        )
        await session.commit()
        assert [a.name for a in result.accounts] == ["街道抖音"]
        assert await _count(session, Invitation) == 1
        assert result.pending[0].accounts == 1


async def test_the_invited_person_becomes_responsible_when_they_join(sessionmaker, clock) -> None:
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        result = await ledger.import_ledger(
            session,
            actor=admin,
            table=xlsx_table([line("某街道办", "微博", "街道发布", "jd_wb", "王五")]),
            now=clock.now(),
            invite_ttl=TTL,
        )
        await session.commit()
        account = result.accounts[0]
        assert await accounts.responsible_of(session, account) == (None, "王五")
        newcomer = User(
            telegram_id=3003, name="王五", created_at=clock.now(), updated_at=clock.now()
        )
        session.add(newcomer)
        await session.flush()
        invitation = await invitations.accept_invitation(
            session, token=result.pending[0].invitation.token, user=newcomer, now=clock.now()
        )
        claimed = await accounts.claim_pending_accounts(
            session, invitation=invitation, user=newcomer, now=clock.now()
        )
        await session.commit()
        assert [a.id for a in claimed] == [account.id]
        await session.refresh(account)
        assert account.responsible_id == newcomer.id and account.responsible_invitation_id is None
        assert (await accounts.responsible_of(session, account))[0].id == newcomer.id
        actions = [
            e.action
            for e in await session.exec(
                select(AuditEntry).where(AuditEntry.object_type == "account")
            )
        ]
        assert actions == ["account.imported", "account.responsible_joined"]


async def test_who_may_import_and_export(sessionmaker, clock) -> None:
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        await ledger.import_ledger(
            session,
            actor=admin,
            table=xlsx_table(
                [
                    line("某区教育局", "微博", "教育微博", "jy_wb", "李老师"),
                    line("某街道办", "微博", "街道微博", "jd_wb", "王五"),
                ]
            ),
            now=clock.now(),
            invite_ttl=TTL,
        )
        await session.commit()
        unit = (await session.exec(select(Unit).where(Unit.name == "某街道办"))).one()
        manager = Actor(
            user_id=admin.user_id, unit_id=unit.id, roles=frozenset({Role.UNIT_MANAGER})
        )
        editor = Actor(user_id=admin.user_id, unit_id=unit.id, roles=frozenset({Role.EDITOR}))
        with pytest.raises(PermissionDenied):
            await ledger.import_ledger(
                session, actor=manager, table=[], now=clock.now(), invite_ttl=TTL
            )
        assert [r[2] for r in await ledger.export_rows(session, actor=manager)] == ["街道微博"]
        assert [r[2] for r in await ledger.export_rows(session, actor=admin)] == [
            "教育微博",
            "街道微博",
        ]
        with pytest.raises(PermissionDenied):
            await ledger.export_rows(session, actor=editor)


def _cells(data: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data))
    return [[c.value for c in r] for r in book["台账"].iter_rows()]


def _five_hundred() -> list[list[object]]:
    platforms = list(PLATFORM_LABELS.values())
    rows = []
    seen: set[tuple[str, str]] = set()
    for n in range(500):
        unit = f"第{n % 25:02d}单位"
        platform = platforms[n % len(platforms)]
        second = (unit, platform) in seen  # a unit's later accounts on a platform need a reason
        seen.add((unit, platform))
        status = ["在用", "整改中", "暂停", "关停", "申请中"][n % 5]
        rows.append(
            line(
                unit,
                platform,
                f"账号{n:03d}",
                f"https://example.gov.cn/a/{n}" if n % 3 == 0 else f"id_{n:05d}",
                f"责任人{n % 40:02d}",
                每周=1 + n % 9,
                同平台多账号理由="面向不同群体的专题账号" if second else "",
                订阅源地址=f"https://rsshub.example.gov.cn/{n}" if n % 2 else "",
                状态=status,
                状态说明="人员调整，暂停更新" if status in ("暂停", "关停") else "",
            )
        )
    return rows


async def test_five_hundred_rows_import_and_export_losslessly(sessionmaker, clock) -> None:
    source = ledger_workbook(sorted(_five_hundred(), key=lambda r: str(r[0])))
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        result = await ledger.import_ledger(
            session,
            actor=admin,
            table=read_table(source, "台账.xlsx"),
            now=clock.now(),
            invite_ttl=TTL,
        )
        await session.commit()
        assert result.validation.problems == [] and len(result.accounts) == 500
        exported = ledger_workbook(await ledger.export_rows(session, actor=admin))
        assert _cells(exported) == _cells(source)
        again = await ledger.import_ledger(
            session,
            actor=admin,
            table=read_table(exported, "x.xlsx"),
            now=clock.now(),
            invite_ttl=TTL,
        )
        assert not again.imported and len(again.validation.unchanged) == 500


async def _registry_by_hand(sm: async_sessionmaker[AsyncSession], clock: ManualClock) -> None:
    """Accounts filed the ordinary way: registration, status changes, awkward values."""
    async with sm() as session:
        admin = await _admin(session, clock)
        teacher = await _member(session, clock, "某区教育局", "李老师", 2002)
        clerk = await _member(session, clock, "某街道办", "=张三", 2003)
        drafts = [
            ("wechat", "教育发布", "jy_fabu", teacher, None, None),
            (
                "wechat",
                "教育招生",
                "123456789012345678",
                teacher,
                "招生季专用账号",
                "https://e.gov.cn/rss",
            ),
            ("weibo", "=街道微博", "https://weibo.com/jd", clerk, None, None),
        ]
        for platform, name, ref, person, reason, feed in drafts:
            account = await accounts.register_account(
                session,
                actor=admin,
                draft=AccountDraft(
                    platform=platform,
                    name=name,
                    platform_ref=ref,
                    unit_id=person.unit_id or 0,
                    responsible_id=person.id or 0,
                    posts_per_week=2,
                    necessity=NECESSITY + "\n第二段说明。",
                    operating_plan=PLAN,
                    duplicate_reason=reason,
                    feed_url=feed,
                ),
                now=clock.now(),
            )
        await accountchanges.change_status(
            session,
            account_id=account.id or 0,
            target=AccountStatus.CLOSED,
            actor=admin,
            now=clock.now(),
            reason="已整合到区融媒体中心",
        )
        await ledger.import_ledger(
            session,
            actor=admin,
            table=xlsx_table([line("某街道办", "抖音", "街道抖音", "jd_dy", "王五")]),
            now=clock.now(),
            invite_ttl=TTL,
        )
        await session.commit()


async def test_export_then_import_into_another_registry_is_lossless(
    sessionmaker, clock, sqlite_template: Path, tmp_path: Path
) -> None:
    await _registry_by_hand(sessionmaker, clock)
    async with sessionmaker() as session:
        admin = await people.actor_for(session, await people.get_user_by_telegram_id(session, 1001))
        first = ledger_workbook(await ledger.export_rows(session, actor=admin))
    assert len(_cells(first)) == 5
    other = tmp_path / "other.db"
    shutil.copy(sqlite_template, other)
    engine = db.create_engine(f"sqlite+aiosqlite:///{other}")
    try:
        async with db.make_sessionmaker(engine)() as session:
            admin = await _admin(session, clock)
            result = await ledger.import_ledger(
                session,
                actor=admin,
                table=read_table(first, "台账.xlsx"),
                now=clock.now(),
                invite_ttl=TTL,
            )
            await session.commit()
            assert result.validation.problems == [] and len(result.accounts) == 4
            second = ledger_workbook(await ledger.export_rows(session, actor=admin))
    finally:
        await engine.dispose()
    assert _cells(second) == _cells(first)
    assert _cells(first)[1][:3] == ["某区教育局", "微信公众号", "教育发布"]


async def test_an_edited_export_updates_its_accounts_after_confirmation(
    sessionmaker, clock
) -> None:
    """The office's round trip: export, edit in Excel, import back; matched by platform + id,
    shown as a diff, applied in one transaction with audit rows only when confirmed."""
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        await _member(session, clock, "某区教育局", "李老师", 2002)
        await _member(session, clock, "某区教育局", "张老师", 2003)
        first = await ledger.import_ledger(
            session,
            actor=admin,
            table=xlsx_table(
                [
                    line("某区教育局", "微信公众号", "教育发布", "jy_fabu", "李老师"),
                    line("某区教育局", "微博", "教育微博", "jy_wb", "李老师"),
                    line("某街道办", "抖音", "街道抖音", "jd_dy", "王五"),
                ]
            ),
            now=clock.now(),
            invite_ttl=TTL,
        )
        await session.commit()
        assert first.imported
        exported = [list(r) for r in await ledger.export_rows(session, actor=admin)]
        by_ref = {r[3]: r for r in exported}
        by_ref["jy_fabu"][4] = "张老师"  # new responsible person
        by_ref["jy_fabu"][5] = 5  # new plan
        by_ref["jy_fabu"][1] = "微信"  # an alias: read as 微信公众号
        by_ref["jy_wb"][10], by_ref["jy_wb"][11] = "关停", "机构改革，账号整合"
        table = xlsx_table(exported)
        dry = await ledger.import_ledger(
            session, actor=admin, table=table, now=clock.now(), invite_ttl=TTL
        )
        assert not dry.imported and dry.needs_confirmation
        validation = dry.validation
        assert validation.problems == [] and validation.rows == []
        changes = {
            u.current.platform_ref: {c.header: (c.before, c.after) for c in u.changes}
            for u in validation.updates
        }
        assert changes == {
            "jy_fabu": {"责任人": ("李老师", "张老师"), "每周计划发布条数": ("3", "5")},
            "jy_wb": {"状态": ("在用", "关停"), "状态说明": ("", "机构改革，账号整合")},
        }
        assert [(a.written, a.platform.value) for a in validation.aliases] == [("微信", "wechat")]
        assert len(validation.unchanged) == 1
        assert await _count(session, AuditEntry, AuditEntry.action == "account.ledger_updated") == 0

        applied = await ledger.import_ledger(
            session, actor=admin, table=table, now=clock.now(), invite_ttl=TTL, apply_updates=True
        )
        await session.commit()
        assert applied.imported and len(applied.updated) == 2 and applied.accounts == []
        rows = {a.platform_ref: a for a in await session.exec(select(Account))}
        teacher = (await session.exec(select(User).where(User.name == "张老师"))).one()
        assert rows["jy_fabu"].responsible_id == teacher.id and rows["jy_fabu"].posts_per_week == 5
        assert (
            rows["jy_wb"].status == "closed" and rows["jy_wb"].status_reason == "机构改革，账号整合"
        )
        entries = list(
            await session.exec(
                select(AuditEntry).where(AuditEntry.action == "account.ledger_updated")
            )
        )
        assert len(entries) == 2 and all(e.before and e.after for e in entries)
        again = await ledger.import_ledger(
            session, actor=admin, table=table, now=clock.now(), invite_ttl=TTL
        )
        assert not again.imported and not again.validation.updates  # nothing left to change


async def test_an_update_follows_the_cards_rules(sessionmaker, clock) -> None:
    async with sessionmaker() as session:
        admin = await _admin(session, clock)
        await ledger.import_ledger(
            session,
            actor=admin,
            table=xlsx_table(
                [
                    line("某区教育局", "微博", "教育微博", "jy_wb", "李老师"),
                    line(
                        "某区教育局",
                        "抖音",
                        "已注销的号",
                        "jy_dy",
                        "李老师",
                        状态="注销",
                        状态说明="整合",
                    ),
                ]
            ),
            now=clock.now(),
            invite_ttl=TTL,
        )
        await session.commit()
        result = await ledger.validate(
            session,
            xlsx_table(
                [
                    line("某区教育局", "微博", "教育微博", "jy_wb", "李老师", 状态="申请中"),
                    line(
                        "某区教育局",
                        "抖音",
                        "改个名字",
                        "jy_dy",
                        "李老师",
                        状态="注销",
                        状态说明="整合",
                    ),
                    line("某区教育局", "微博", "教育微博", "jy_wb", "李老师", 状态="暂停"),
                ]
            ),
        )
        found = [(p.row, p.column, str(p.error)) for p in result.problems]
        assert (2, "状态", "该账号当前状态为“在用”，不能执行此操作。") in found
        assert (3, "", "已关停、注销或未通过的账号不能修改。") in found
        assert any(r == 4 and c == "平台账号ID或主页" for r, c, _m in found)  # same id twice
        assert any(r == 4 and c == "状态说明" for r, c, _m in found)  # 暂停 needs a reason
        assert not any("同平台多账号理由" in c for _r, c, _m in found)  # no spurious reason error
