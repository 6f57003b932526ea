"""Admins' changes to the checker's dictionaries, kept in the database (``/words``).

Rows are never deleted: removing an entry deactivates it, so the audit trail and the question
"why did this start (or stop) being flagged" both have an answer.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.quality import Customization, WordEntry
from governance.registry import clean_line
from governance.roles import Actor
from governance.vocabulary import Category
from models import audit
from models.base import EnumString, UTCDateTime

WORD_MAX = 60


class RuleKind(StrEnum):
    WORD = "word"  # flag this word as a category (with an optional suggestion)
    ALLOW = "allow"  # never flag inside this phrase
    DISABLE = "disable"  # switch a shipped dictionary word off
    REMOVED_OFFICIAL = "removed_official"  # 落马官员: must not appear as an official
    ALLOWED_DOMAIN = "allowed_domain"  # links to this domain are never off-list


#: Categories an admin may add words to (the rest come from structure, not words).
WORD_CATEGORIES = ("typo", "wording", "gambling", "porn", "ad")


class WordRule(SQLModel, table=True):
    __tablename__ = "word_rules"

    id: int | None = Field(default=None, primary_key=True)
    kind: RuleKind = Field(sa_type=EnumString(RuleKind, 20), index=True)
    category: Category | None = Field(default=None, sa_type=EnumString(Category, 16))
    word: str = Field(max_length=WORD_MAX)
    suggestion: str | None = Field(default=None, max_length=WORD_MAX)
    active: bool = True
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_type=UTCDateTime())
    removed_by: int | None = Field(default=None, foreign_key="users.id")
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(N_("只有管理员可以维护错敏词库。"))


def validate_word(kind: RuleKind, word: str, category: str | None) -> tuple[str, str | None]:
    value = clean_line(word)
    if not value:
        raise InvalidInput(N_("词条不能为空。"))
    if len(value) > WORD_MAX:
        raise InvalidInput(N_("词条最多 {max} 个字。"), max=WORD_MAX)
    if kind is RuleKind.WORD:
        if category not in WORD_CATEGORIES:
            raise InvalidInput(N_("请选择词条的类别。"))
    elif kind is RuleKind.ALLOWED_DOMAIN:
        value = value.lower().removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        if "." not in value or " " in value:
            raise InvalidInput(N_("请输入域名，如 example.gov.cn。"))
        category = None
    else:
        category = None
    return value, category


async def add_rule(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: RuleKind,
    word: str,
    category: str | None = None,
    suggestion: str | None = None,
    now: datetime,
) -> WordRule:
    _require_admin(actor)
    value, category = validate_word(kind, word, category)
    hint = clean_line(suggestion)[:WORD_MAX] or None if suggestion else None
    existing = await session.exec(
        select(WordRule).where(
            WordRule.kind == kind,
            WordRule.word == value,
            WordRule.category == category if category else col(WordRule.category).is_(None),
            col(WordRule.active).is_(True),
        )
    )
    if existing.first() is not None:
        raise Conflict(N_("“{word}”已在词库中。"), word=value)
    rule = WordRule(
        kind=kind,
        category=Category(category) if category else None,
        word=value,
        suggestion=hint,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(rule)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="words.added",
        object_type="word_rule",
        object_id=rule.id,
        after={"kind": kind.value, "category": category, "word": value, "suggestion": hint},
    )
    return rule


async def remove_rule(
    session: AsyncSession, *, actor: Actor, rule_id: int, now: datetime
) -> WordRule:
    _require_admin(actor)
    rule = await session.get(WordRule, rule_id)
    if rule is None:
        raise NotFound(N_("找不到该词条。"))
    if not rule.active:
        raise StaleAction(N_("该词条已删除。"))
    rule.active, rule.removed_by, rule.removed_at = False, actor.user_id, now
    session.add(rule)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="words.removed",
        object_type="word_rule",
        object_id=rule.id,
        before={"kind": rule.kind, "category": rule.category, "word": rule.word},
    )
    return rule


async def list_rules(
    session: AsyncSession, *, kind: RuleKind | None = None, offset: int = 0, limit: int = 20
) -> tuple[list[WordRule], int]:
    stmt = select(WordRule).where(col(WordRule.active).is_(True))
    if kind is not None:
        stmt = stmt.where(WordRule.kind == kind)
    total = int((await session.exec(select(func.count()).select_from(stmt.subquery()))).one())
    rows = await session.exec(stmt.order_by(col(WordRule.id).desc()).offset(offset).limit(limit))
    return list(rows), total


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.exec(
        select(WordRule.kind, func.count())
        .where(col(WordRule.active).is_(True))
        .group_by(WordRule.kind)
    )
    return {kind: int(n) for kind, n in rows}


async def fingerprint(session: AsyncSession) -> tuple[int, int]:
    """Changes whenever a rule is added or removed: (newest id, number of removals)."""
    newest = (await session.exec(select(func.max(WordRule.id)))).one()
    removed = await session.exec(
        select(func.count()).select_from(WordRule).where(col(WordRule.active).is_(False))
    )
    return int(newest or 0), int(removed.one() or 0)


def to_customization(rules: list[WordRule], extra: Customization | None = None) -> Customization:
    """Fold active rules (and a file's entries) into what the checker builds from."""
    words: list[WordEntry] = list(extra.words) if extra else []
    allow = list(extra.allow) if extra else []
    disabled = list(extra.disabled) if extra else []
    officials = list(extra.removed_officials) if extra else []
    domains = list(extra.allowed_domains) if extra else []
    for rule in rules:
        if rule.kind == RuleKind.WORD and rule.category:
            words.append(WordEntry(rule.category, rule.word, rule.suggestion))
        elif rule.kind == RuleKind.ALLOW:
            allow.append(rule.word)
        elif rule.kind == RuleKind.DISABLE:
            disabled.append(rule.word)
        elif rule.kind == RuleKind.REMOVED_OFFICIAL:
            officials.append(rule.word)
        elif rule.kind == RuleKind.ALLOWED_DOMAIN:
            domains.append(rule.word)
    return Customization(
        words=tuple(words),
        allow=tuple(allow),
        disabled=tuple(disabled),
        removed_officials=tuple(officials),
        allowed_domains=tuple(domains),
    )


async def active_rules(session: AsyncSession) -> list[WordRule]:
    return list(await session.exec(select(WordRule).where(col(WordRule.active).is_(True))))
