"""The migrations: shipped in the package, in chain order, and the schema they build is the models'.

Each test migrates a database of its own: a fresh SQLite file, or on PostgreSQL a schema of its
own in the test database (``search_path``), so the shared migrated schema of the other tests is
never downgraded under them.
"""

from __future__ import annotations

import re
import tomllib
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
