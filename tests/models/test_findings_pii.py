"""Personal data in findings is stored only masked, for posts as for drafts, old rows included."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from bot import db
from governance.precheck import to_json
from governance.quality import build_checker
from governance.quality.pii import mask_number
from governance.roles import Role
from models import people
from models.findings import StoredFinding, record_post_findings
from models.posts import Post
from tests.e2e.seed import seed_account, seed_person, seed_unit

ADMIN = 1001
ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"
TEXT = f"办事群众身份证号{ID_NUMBER}，联系电话{MOBILE}。"


async def _account(sessionmaker, now) -> int:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN, now=now)
        await session.commit()
    unit = await seed_unit(sessionmaker, "某街道办", now)
    person = await seed_person(
        sessionmaker, telegram_id=4001, name="冯主任", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    return await seed_account(
        sessionmaker,
        admin_telegram_id=ADMIN,
        unit_id=unit,
        responsible_id=person,
        name="街道发布",
        now=now,
    )


def test_the_mask_keeps_what_the_national_rule_allows() -> None:
    assert mask_number(ID_NUMBER, "pii.id18") == "11*************02X"
    assert mask_number("138 1234 5678", "pii.mobile") == "138****5678"
    assert mask_number("6222021234567890123", "pii.bankcard") == "6222***********0123"
    assert mask_number("12345", "pii.unknown") == "*****"


async def test_a_posts_personal_data_is_stored_masked_like_a_drafts(sessionmaker, clock) -> None:
    now = clock.now()
    account = await _account(sessionmaker, now)
    found = build_checker().check_text(TEXT)
    assert {f.rule for f in found if f.category == "pii"} == {"pii.id18", "pii.mobile"}
    async with sessionmaker() as session:
        post = Post(
            account_id=account, identity="g1", title=TEXT, published_at=now, first_seen_at=now
        )
        session.add(post)
        await session.flush()
        await record_post_findings(
            session,
            account_id=account,
            post_id=post.id or 0,
            checked_text=TEXT,
            findings=found,
            now=now,
        )
        await session.commit()
        stored = list(await session.exec(select(StoredFinding)))
    pii = [row for row in stored if row.category == "pii"]
    assert sorted(row.text for row in pii) == ["11*************02X", "138****5678"]
    draft = sorted(item["text"] for item in to_json(found) if item["category"] == "pii")
    assert draft == sorted(row.text for row in pii)
    for row in pii:
        assert row.suggestion is None
        stored_values = f"{row.text} {row.excerpt} {row.account_key}"
        assert ID_NUMBER not in stored_values and MOBILE not in stored_values


def test_the_migration_masks_findings_stored_in_clear(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db.upgrade_sync(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", "0007_cases")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        # (foreign keys are not enforced on this plain connection: findings alone suffice)
        for i, (rule, text, suggestion) in enumerate(
            [
                ("pii.id18", ID_NUMBER, "11*************02X"),
                ("pii.mobile", MOBILE, None),
                ("typo.x", "截止目前", "截至目前"),
            ]
        ):
            category = "typo" if rule.startswith("typo") else "pii"
            conn.execute(
                sa.text(
                    'INSERT INTO findings (account_id, category, severity, rule, start, "end",'
                    " text, suggestion, excerpt, account_key, status, found_at) VALUES"
                    " (1, :c, 'veto', :r, :s, 0, :t, :sg, '', :k, 'open', '2026-01-01 00:00:00')"
                ),
                {
                    "c": category,
                    "r": rule,
                    "s": i,
                    "t": text,
                    "sg": suggestion,
                    "k": f"1:{category}:{text}",
                },
            )
    db.upgrade_sync(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT rule, text, suggestion, account_key FROM findings ORDER BY start")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("pii.id18", "11*************02X", None, "1:pii:11*************02X"),
        ("pii.mobile", "138****5678", None, "1:pii:138****5678"),
        ("typo.x", "截止目前", "截至目前", "1:typo:截止目前"),
    ]
