"""The migrations: shipped in the package, in chain order, and the schema they build is the models'.

Each test migrates a database of its own: a fresh SQLite file, or on PostgreSQL a schema of its
own in the test database (``search_path``), so the shared migrated schema of the other tests is
never downgraded under them.
"""

from __future__ import annotations

import re
import tomllib
import zlib
from collections.abc import AsyncIterator, Callable
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

import models
from bot import db
from bot.migrations import LEGACY_REVISIONS
from tests.conftest import PG_URL, _pg_available

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "migrations_check"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not _pg_available():
        pytest.skip("PostgreSQL not available (set TEST_DATABASE_URL)")
    return str(request.param)


@pytest.fixture
async def empty_database(backend: str, tmp_path: Path) -> AsyncIterator[AsyncConnection]:
    """A connection to a database (or schema) with nothing in it."""
    if backend == "sqlite":
        engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    else:
        setup = create_async_engine(PG_URL)
        async with setup.begin() as conn:
            await conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            await conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        await setup.dispose()
        engine = create_async_engine(
            PG_URL, connect_args={"server_settings": {"search_path": SCHEMA}}
        )
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


def _alembic(conn: AsyncConnection) -> Callable[..., Any]:
    """Run an alembic command on this connection (inside ``run_sync``), then commit."""

    async def run(fn: Callable[..., None], *args: str) -> None:
        def call(sync: Connection) -> None:
            config = db.alembic_config("unused://")
            config.attributes["connection"] = sync
            fn(config, *args)

        await conn.run_sync(call)
        await conn.commit()

    return run


async def _just_before(conn: AsyncConnection, revision: str) -> tuple[Callable[..., Any], str]:
    """Migrate ``conn`` to the revision ``revision`` follows; the alembic runner and that one."""
    script = ScriptDirectory.from_config(db.alembic_config("unused://"))
    before = script.get_revision(revision).down_revision
    assert isinstance(before, str)
    run = _alembic(conn)
    await run(command.upgrade, before)
    return run, before


def _schema_differences(sync: Connection) -> list[Any]:
    context = MigrationContext.configure(sync, opts={"compare_type": True})
    return list(compare_metadata(context, models.metadata))


def _tables(sync: Connection) -> set[str]:
    return set(sa.inspect(sync).get_table_names())


def _version(sync: Connection) -> str | None:
    return MigrationContext.configure(sync).get_current_revision()


async def test_an_empty_database_upgraded_to_head_has_exactly_the_models_schema(
    empty_database: AsyncConnection,
) -> None:
    run = _alembic(empty_database)
    await run(command.upgrade, "head")
    assert await empty_database.run_sync(_schema_differences) == []
    assert await empty_database.run_sync(_version) == _head()


async def test_downgrade_to_base_then_upgrade_rebuilds_the_same_schema(
    empty_database: AsyncConnection,
) -> None:
    run = _alembic(empty_database)
    await run(command.upgrade, "head")
    await run(command.downgrade, "base")
    assert await empty_database.run_sync(_tables) <= {"alembic_version"}
    await run(command.upgrade, "head")
    assert await empty_database.run_sync(_schema_differences) == []


@pytest.mark.parametrize(("old", "new"), [("0005", "0005_ledger"), ("0003", "0006_review")])
async def test_a_database_stamped_with_an_old_revision_id_upgrades_to_head(
    empty_database: AsyncConnection, old: str, new: str
) -> None:
    run = _alembic(empty_database)
    await run(command.upgrade, new)
    await empty_database.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": old})
    await empty_database.commit()

    await run(command.upgrade, "head")

    assert await empty_database.run_sync(_version) == _head()
    assert await empty_database.run_sync(_schema_differences) == []


def _head() -> str:
    return ScriptDirectory.from_config(db.alembic_config("unused://")).get_current_head() or ""


def test_migration_files_are_named_by_their_revision_in_chain_order() -> None:
    script = ScriptDirectory.from_config(db.alembic_config("unused://"))
    chain = list(reversed(list(script.walk_revisions())))
    for position, revision in enumerate(chain, start=1):
        assert Path(revision.path).stem == revision.revision
        assert re.fullmatch(rf"{position:04d}_[a-z0-9_]+", revision.revision), revision.revision
    assert set(LEGACY_REVISIONS.values()) <= {r.revision for r in chain}


def test_the_migrations_ship_inside_the_installed_package() -> None:
    """Alembic finds them as a package resource, and the wheel carries every file it reads."""
    assert db.SCRIPT_LOCATION == "bot:migrations"
    folder = resources.files("bot") / "migrations"
    needed = [
        "migrations/" + p.relative_to(Path(str(folder))).as_posix()
        for p in Path(str(folder)).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = config["package-data"]["bot"]
    packaged_modules = {"migrations/__init__.py", "migrations/env.py"}  # modules of bot.migrations
    missing = [
        f for f in needed if f not in packaged_modules and not any(fnmatch(f, g) for g in globs)
    ]
    assert not missing, missing
    assert any(
        fnmatch("bot.migrations", pattern) for pattern in config["packages"]["find"]["include"]
    )


async def test_0018_compacts_identities_and_old_bodies_still_read(
    empty_database: AsyncConnection,
) -> None:
    """Rows stored before 0018: their identity becomes the digest key (so the poller's lookups
    still find them), their zlib body reads as before; the downgrade gives links back."""
    from datetime import UTC, datetime

    from sqlmodel.ext.asyncio.session import AsyncSession

    from models import posts

    run, before = await _just_before(empty_database, "0018_post_compact")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    link = "https://www.example.gov.cn/zwgk/202612/t20261201_1234567.html"
    identities = [link, f"c3:{link}", "short-guid", "sha1:" + "a" * 40]
    account_id = await _one_account(empty_database)
    async with AsyncSession(bind=empty_database) as session:
        for n, identity in enumerate(identities):
            await session.exec(  # type: ignore[call-overload]
                sa.text(
                    "INSERT INTO posts (account_id, identity, title, link, published_at, dated,"
                    " first_seen_at, counts_as_activity, body) VALUES (:a, :i, :t, :l, :p, true,"
                    " :p, true, :b)"
                ),
                params={
                    "a": account_id,
                    "i": identity,
                    "t": f"标题{n}",
                    "l": link,
                    "p": now.replace(tzinfo=None),
                    "b": zlib.compress(f"旧正文{n}".encode(), 6),
                },
            )
        await session.commit()

    await run(command.upgrade, "head")

    async with AsyncSession(bind=empty_database) as session:
        stored = dict(
            (await session.exec(sa.select(posts.Post.title, posts.Post.identity))).all()  # type: ignore[call-overload]
        )
        bodies = dict(
            (await session.exec(sa.select(posts.Post.title, posts.Post.body))).all()  # type: ignore[call-overload]
        )
        known = await posts.known_pairs(session, pairs=[(account_id, i) for i in identities])
        await session.rollback()
    assert [stored[f"标题{n}"] for n in range(4)] == [posts.stored_identity(i) for i in identities]
    assert [posts.expand_body(bodies[f"标题{n}"]) for n in range(4)] == [
        f"旧正文{n}" for n in range(4)
    ]
    assert known == {(account_id, i) for i in identities}

    await run(command.downgrade, before)
    found = await empty_database.execute(sa.text("SELECT title, identity FROM posts"))
    back = dict(found.all())
    await empty_database.commit()
    assert [back[f"标题{n}"] for n in range(4)] == [
        link,
        f"c3:{link}",
        "short-guid",
        posts.stored_identity("sha1:" + "a" * 40),  # not a link: stays in its digest form
    ]


async def test_0020_narrows_post_dates_and_titles_and_the_downgrade_restores_them(
    empty_database: AsyncConnection,
) -> None:
    """Rows stored before 0020 read back the same through the models after it (dates to the
    second, Chinese and astral titles whole, absurd dates clamped to the 32-bit range), and
    the downgrade gives text and timestamps back."""
    from datetime import UTC, datetime

    from sqlmodel.ext.asyncio.session import AsyncSession

    from models import posts

    run, before = await _just_before(empty_database, "0020_post_narrow")
    account_id = await _one_account(empty_database)
    rows = [
        ("关于开展2026年度政务新媒体检查的通知", "办公室", datetime(2026, 11, 30, 8, 5, 9, 123456)),
        ("Emoji 标题 😀 and 𠀀", None, datetime(2001, 2, 3, 4, 5, 6)),
        ("很久以前", "档案馆", datetime(1, 1, 1)),
        ("遥远未来", "", datetime(9999, 12, 31, 23, 59, 59)),
    ]
    for n, (title, author, when) in enumerate(rows):
        await empty_database.execute(
            sa.text(
                "INSERT INTO posts (account_id, identity, title, link, author, published_at, dated,"
                " first_seen_at, counts_as_activity) VALUES (:a, :i, :t, NULL, :au, :p, true,"
                " :s, true)"
            ),
            {"a": account_id, "i": f"g{n}", "t": title, "au": author, "p": when, "s": when},
        )
    await empty_database.commit()

    await run(command.upgrade, "head")

    async with AsyncSession(bind=empty_database) as session:
        stored = (
            await session.exec(
                sa.select(posts.Post).order_by(posts.Post.identity)  # type: ignore[call-overload]
            )
        ).all()
        got = [(p.title, p.author, p.published_at, p.first_seen_at) for (p,) in stored]
        await session.rollback()
    expected_dates = [
        datetime(2026, 11, 30, 8, 5, 9, tzinfo=UTC),
        datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(1931, 12, 13, 20, 45, 52, tzinfo=UTC),
        datetime(2068, 1, 19, 3, 14, 7, tzinfo=UTC),
    ]
    assert got == [
        (title, author, when, when)
        for (title, author, _), when in zip(rows, expected_dates, strict=True)
    ]

    await run(command.downgrade, before)
    found = await empty_database.execute(
        sa.text("SELECT title, author, published_at FROM posts ORDER BY identity")
    )
    back = found.all()
    await empty_database.commit()
    assert [(t, a) for t, a, _ in back] == [(t, a) for t, a, _ in rows]
    assert [_naive(p) for _, _, p in back] == [d.replace(tzinfo=None) for d in expected_dates]


def _naive(value: Any) -> Any:
    """A timestamp as the driver hands it back: a datetime (PostgreSQL) or its text (SQLite)."""
    from datetime import datetime

    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


async def _one_account(conn: AsyncConnection) -> int:
    """An account (with its unit and person) to hang posts on, written with the models of the
    current revision's tables."""
    from datetime import UTC, datetime

    from sqlmodel.ext.asyncio.session import AsyncSession

    from governance.registry import AccountStatus
    from models.accounts import Account
    from models.people import Unit, User

    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with AsyncSession(bind=conn) as session:
        unit = Unit(name="单位", created_at=now)
        person = User(telegram_id=1, name="人", created_at=now, updated_at=now)
        session.add_all([unit, person])
        await session.flush()
        account = {
            "platform": "wechat",
            "name": "账号",
            "platform_ref": "r",
            "platform_ref_norm": "r",
            "unit_id": unit.id,
            "responsible_id": person.id,
            "posts_per_week": 3,
            "necessity": "n",
            "operating_plan": "p",
            "feed_url": "http://127.0.0.1/f.xml",
            "status": AccountStatus.ACTIVE.value,
            "created_by": person.id,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        await session.exec(sa.insert(Account), params=[account])  # type: ignore[call-overload]
        await session.commit()
    found = await conn.execute(sa.text("SELECT id FROM accounts"))
    account_id = int(found.scalar_one())
    await conn.commit()
    return account_id


async def test_0021_tallies_the_accounts_already_filed_and_keeps_the_tally_after(
    empty_database: AsyncConnection,
) -> None:
    """Accounts filed before 0021 are counted by the migration; the triggers it installs count
    those filed, moved and removed after; the downgrade takes table and triggers away."""
    run, before = await _just_before(empty_database, "0021_account_tallies")
    first = await _one_account(empty_database)
    await run(command.upgrade, "head")

    async def tally() -> list[tuple[Any, ...]]:
        found = await empty_database.execute(
            sa.text("SELECT platform, status, n FROM account_tallies ORDER BY platform, status")
        )
        return [tuple(r) for r in found.all()]

    assert await tally() == [("wechat", "active", 1)]
    await empty_database.execute(
        sa.text("UPDATE accounts SET status = 'suspended' WHERE id = :i"), {"i": first}
    )
    await empty_database.execute(
        sa.text("UPDATE accounts SET name = '改名' WHERE id = :i"), {"i": first}
    )
    assert await tally() == [("wechat", "active", 0), ("wechat", "suspended", 1)]
    await empty_database.execute(sa.text("DELETE FROM accounts WHERE id = :i"), {"i": first})
    assert await tally() == [("wechat", "active", 0), ("wechat", "suspended", 0)]
    await empty_database.commit()

    await run(command.downgrade, before)
    assert "account_tallies" not in await empty_database.run_sync(_tables)
    await empty_database.execute(sa.text("DELETE FROM accounts"))  # no trigger left to fail
    await empty_database.commit()
