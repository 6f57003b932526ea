"""The demo's seeded office: units on two levels, people in every role, ~30 accounts with farm
feeds in every state, a three-stage review route and drafts in flight.

Everything is relative to the scenario's epoch (the demo clock when the database was first
seeded), so the farm's feeds can be rebuilt identically on every start. The database is filled
through the same model and workflow functions the bot's commands call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.demo.botapi import BotApiCore
from bot.demo.chats import Person
from bot.demo.farm import FeedFarm, FeedProfile
from governance.quality import Checker
from governance.review import StageRule, StageSpec
from governance.roles import Role
from models import people, reviews, routes
from models.accounts import AccountDraft
from models.people import Unit, User
from workflows import registry
from workflows.reviews.submit import submit

ALERT_CHAT_ID = -1_000_000_001
ALERT_CHAT_TITLE = "政务公开办预警群"
TZ = ZoneInfo("Asia/Shanghai")


def history_start(epoch: datetime) -> datetime:
    """Ten days before the previous quarter began: /report 上季度 has the whole quarter."""
    local = epoch.astimezone(TZ)
    first_month = 3 * ((local.month - 1) // 3) + 1  # this quarter's first month
    year, month = (local.year, first_month - 3) if first_month > 3 else (local.year - 1, 10)
    return datetime(year, month, 1, tzinfo=TZ).astimezone(epoch.tzinfo) - timedelta(days=10)


@dataclass(frozen=True, slots=True)
class Persona:
    """Someone the page lets you act as; ``key`` names them in the tour and the tests."""

    key: str
    telegram_id: int
    name: str
    role_label: str
    unit: str | None
    roles: tuple[Role, ...]


PERSONAS = (
    Persona("admin", 1001, "王主任", "管理员", None, (Role.ADMIN,)),
    Persona("manager", 2001, "赵科长", "单位管理员", "区教育局", (Role.UNIT_MANAGER,)),
    Persona("first", 3001, "孙初审", "初审", "区教育局", (Role.APPROVER,)),
    Persona("second", 3002, "李复审", "复审", "区教育局", (Role.APPROVER,)),
    Persona("final", 3003, "周终审", "终审", "区教育局", (Role.APPROVER,)),
    Persona("editor", 4001, "钱编辑", "编辑", "区教育局", (Role.EDITOR,)),
    # nobody yet: joins by clicking an invitation link (/invite) on the page
    Persona("newcomer", 5001, "新同事", "待加入", None, ()),
)
PERSONA_BY_KEY = {p.key: p for p in PERSONAS}

#: (unit, parent) — two levels.
UNITS = (
    ("区政府办公室", None),
    ("区教育局", None),
    ("区卫生健康委", None),
    ("区文化和旅游局", None),
    ("区市场监管局", None),
    ("城关街道办事处", "区政府办公室"),
    ("东城街道办事处", "区政府办公室"),
    ("区第一中学", "区教育局"),
    ("区人民医院", "区卫生健康委"),
)
#: Other people (not personas): (telegram id, name, unit, role).
STAFF = (
    (1002, "陈干事", None, Role.ADMIN),
    (2101, "刘主任", "区政府办公室", Role.UNIT_MANAGER),
    (2102, "黄科长", "区卫生健康委", Role.UNIT_MANAGER),
    (2103, "吴科长", "区文化和旅游局", Role.UNIT_MANAGER),
    (2104, "郑科长", "区市场监管局", Role.UNIT_MANAGER),
    (2105, "冯主任", "城关街道办事处", Role.UNIT_MANAGER),
    (2106, "何主任", "东城街道办事处", Role.UNIT_MANAGER),
    (2107, "许老师", "区第一中学", Role.UNIT_MANAGER),
    (2108, "韩主任", "区人民医院", Role.UNIT_MANAGER),
    (4101, "马编辑", "区政府办公室", Role.EDITOR),
    (4102, "朱编辑", "区卫生健康委", Role.EDITOR),
)

# Account states, as (every, stopped days ago or None, extra)
FRESH, WARNING, SOON_DORMANT, DORMANT, CLOSURE, BROKEN, VETO, UNREVIEWED = (
    "fresh",
    "warning",
    "soon_dormant",
    "dormant",
    "closure",
    "broken",
    "veto",
    "unreviewed",
)
#: (feed name, account name, platform, unit, state, posting every N days)
ACCOUNTS = (
    ("gov-wx", "区政府发布", "wechat", "区政府办公室", FRESH, 1),
    ("gov-wb", "区政府微博", "weibo", "区政府办公室", FRESH, 1),
    ("gov-dy", "区政府抖音", "douyin", "区政府办公室", WARNING, 2),
    ("gov-tt", "区政府头条号", "toutiao", "区政府办公室", FRESH, 2),
    ("edu-wx", "教育发布", "wechat", "区教育局", SOON_DORMANT, 2),
    ("edu-wb", "区教育局微博", "weibo", "区教育局", UNREVIEWED, 1),
    ("edu-dy", "教育抖音号", "douyin", "区教育局", CLOSURE, 3),
    ("health-wx", "健康发布", "wechat", "区卫生健康委", FRESH, 1),
    ("health-wb", "区卫健委微博", "weibo", "区卫生健康委", VETO, 2),
    ("health-bili", "健康科普B站", "bilibili", "区卫生健康委", DORMANT, 3),
    ("culture-wx", "文旅发布", "wechat", "区文化和旅游局", FRESH, 2),
    ("culture-xhs", "文旅小红书", "xiaohongshu", "区文化和旅游局", FRESH, 2),
    ("culture-dy", "文旅抖音", "douyin", "区文化和旅游局", WARNING, 2),
    ("culture-ks", "文旅快手号", "kuaishou", "区文化和旅游局", DORMANT, 4),
    ("market-wx", "市场监管发布", "wechat", "区市场监管局", FRESH, 2),
    ("market-wb", "区市场监管微博", "weibo", "区市场监管局", BROKEN, 2),
    ("market-tt", "市场监管头条号", "toutiao", "区市场监管局", CLOSURE, 5),
    ("cg-wx", "城关街道", "wechat", "城关街道办事处", FRESH, 2),
    ("cg-dy", "城关街道抖音", "douyin", "城关街道办事处", DORMANT, 3),
    ("cg-wb", "城关街道微博", "weibo", "城关街道办事处", FRESH, 3),
    ("dc-wx", "东城街道", "wechat", "东城街道办事处", FRESH, 1),
    ("dc-wb", "东城街道微博", "weibo", "东城街道办事处", WARNING, 3),
    ("dc-ks", "东城街道快手", "kuaishou", "东城街道办事处", BROKEN, 3),
    ("school-wx", "区一中", "wechat", "区第一中学", FRESH, 2),
    ("school-bili", "区一中B站", "bilibili", "区第一中学", CLOSURE, 7),
    ("hosp-wx", "区人民医院", "wechat", "区人民医院", FRESH, 1),
    ("hosp-wb", "区人民医院微博", "weibo", "区人民医院", FRESH, 2),
    ("hosp-dy", "区人民医院抖音", "douyin", "区人民医院", WARNING, 3),
    ("site-news", "区政府网站·要闻动态", "website", "区政府办公室", FRESH, 1),
    ("site-notice", "区政府网站·通知公告", "website", "区政府办公室", DORMANT, 5),
)
_STOPPED_DAYS = {
    WARNING: 8.5,
    SOON_DORMANT: 13.2,  # 僵尸号 (14 days) within the first day: watch it happen
    DORMANT: 20,
    CLOSURE: 75,
}


def profiles(epoch: datetime) -> list[FeedProfile]:
    """The farm's feeds for a scenario seeded at ``epoch`` (the same on every start)."""
    found = []
    for number, (feed, name, _platform, _unit, state, every) in enumerate(ACCOUNTS):
        since = history_start(epoch) + timedelta(hours=3 * number)
        stopped = _STOPPED_DAYS.get(state)
        found.append(
            FeedProfile(
                name=feed,
                title=name,
                since=since,
                every=timedelta(days=every, hours=number % 5),
                until=epoch - timedelta(days=stopped) if stopped is not None else None,
                broken=state == BROKEN,
                veto_at=epoch - timedelta(days=1, hours=5) if state == VETO else None,
            )
        )
    return found


def add_people(api: BotApiCore) -> None:
    """The personas and the alert chat, on the embedded Bot API."""
    for persona in PERSONAS:
        api.add_person(Person(persona.telegram_id, persona.name))
    admins = tuple(p.telegram_id for p in PERSONAS if Role.ADMIN in p.roles)
    api.add_group(ALERT_CHAT_ID, ALERT_CHAT_TITLE, admins)


async def seed(sm: async_sessionmaker[AsyncSession], *, farm: FeedFarm, epoch: datetime) -> None:
    """Fill an empty, migrated database with the office (accounts via the registry workflow)."""
    opened = history_start(epoch)  # the office has been at it since before last quarter
    async with sm() as session:
        unit_ids: dict[str, int] = {}
        for name, parent in UNITS:
            unit = Unit(name=name, parent_id=unit_ids.get(parent or ""), created_at=opened)
            session.add(unit)
            await session.flush()
            assert unit.id is not None
            unit_ids[name] = unit.id
        users: dict[int, User] = {}
        everyone = [(p.telegram_id, p.name, p.unit, p.roles) for p in PERSONAS if p.roles]
        everyone += [(tg, name, unit, (role,)) for tg, name, unit, role in STAFF]
        for telegram_id, name, unit_name, roles in everyone:
            user = User(
                telegram_id=telegram_id,
                name=name,
                unit_id=unit_ids[unit_name] if unit_name else None,
                created_at=opened,
                updated_at=opened,
            )
            session.add(user)
            await session.flush()
            for role in roles:
                await people.grant_role(session, user=user, role=role, actor_id=None, now=opened)
            users[telegram_id] = user
        admin = users[PERSONA_BY_KEY["admin"].telegram_id]
        actor = await people.actor_for(session, admin)
        responsible = {
            unit_name: users[tg].id for tg, _n, unit_name, role in STAFF if role == Role.EDITOR
        }
        responsible["区教育局"] = users[PERSONA_BY_KEY["editor"].telegram_id].id
        for feed, name, platform, unit_name, _state, every in ACCOUNTS:
            manager = next(
                (
                    users[tg].id
                    for tg, _n, u, r in STAFF
                    if u == unit_name and r is Role.UNIT_MANAGER
                ),
                users[PERSONA_BY_KEY["manager"].telegram_id].id,
            )
            await registry.register(
                session,
                actor=actor,
                applicant=admin,
                draft=AccountDraft(
                    platform=platform,
                    name=name,
                    platform_ref=f"demo_{feed.replace('-', '_')}",
                    unit_id=unit_ids[unit_name],
                    responsible_id=responsible.get(unit_name) or manager or 0,
                    posts_per_week=max(1, 7 // every),
                    necessity="发布本单位政务信息，回应群众关切（演示数据）。",
                    operating_plan="按周更新政务动态，办公室编辑，分管领导审核（演示数据）。",
                    feed_url=farm.url(feed),
                    duplicate_reason="不同栏目分别运营（演示数据）",
                ),
                now=opened,
            )
        approvers = [
            users[PERSONA_BY_KEY[k].telegram_id].id or 0 for k in ("first", "second", "final")
        ]
        await routes.save_route(
            session,
            actor=actor,
            unit_id=unit_ids["区教育局"],
            account_id=None,
            stages=[
                StageSpec(name=stage, rule=StageRule.ANY, sla_hours=24, approver_ids=(who,))
                for stage, who in zip(("初审", "复审", "终审"), approvers, strict=True)
            ],
            restart_from_first=True,
            require_review=True,
            version=None,
            now=epoch - timedelta(days=3),  # recent posts of 区教育局微博 went out unreviewed
        )
        await session.commit()


#: Drafts in flight: (title, text) as the editor sent them.
DRAFTS = (
    ("关于2026年秋季学期开学安排的通知", "各中小学：秋季学期定于9月1日开学，请做好开学准备工作。"),
    (
        "区教育局开展校园安全专项检查",
        "近日，区教育局组织开展校园安全专项检查，重点排查消防和食品安全隐患。",
    ),
)


async def submit_drafts(
    sm: async_sessionmaker[AsyncSession],
    *,
    api: BotApiCore,
    checker: Checker,
    max_chars: int,
    prefix: str,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """The editor's drafts, filed through the review workflow (their cards go out by the outbox)."""
    editor = PERSONA_BY_KEY["editor"]
    async with sm() as session:
        user = await people.get_user_by_telegram_id(session, editor.telegram_id)
        assert user is not None and user.id is not None
        actor = await people.actor_for(session, user)
        account = next(a for a in await _unit_accounts(session, user) if a[1] == "教育发布")
        for title, text in DRAFTS:
            message = api.record(editor.telegram_id, editor.telegram_id, text=text)
            key = secrets.token_hex(8)
            await reviews.add_part(
                session,
                owner_id=user.id,
                draft_key=key,
                chat_id=editor.telegram_id,
                message_id=message.message_id,
                kind="text",
                text=text,
                file_name=None,
                media_group_id=None,
                now=now,
            )
            await submit(
                session,
                actor=actor,
                account_id=account[0],
                title=title,
                planned_at=None,
                draft_key=key,
                checker=checker,
                max_chars=max_chars,
                prefix=prefix,
                now=now,
                tz=tz,
            )
        await session.commit()


async def _unit_accounts(session: AsyncSession, user: User) -> list[tuple[int, str]]:
    from sqlmodel import select

    from models.accounts import Account

    rows = await session.exec(select(Account).where(Account.unit_id == user.unit_id))
    return [(a.id or 0, a.name) for a in rows]
