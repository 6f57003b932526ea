"""account tallies: accounts per (unit, platform, status), kept by triggers on ``accounts``

The first page of /accounts shows the list's total; counting a national registry on every
opening is an index scan of 10-20 ms of the database's time. ``account_tallies`` holds a count
per (unit, platform, status), filled here from the registry and kept by row triggers on
``accounts`` (insert, delete, and an update that changes one of the three columns), in the
writer's own transaction. A later migration that rebuilds ``accounts`` (SQLite's batch mode
copies the table and drops its triggers) must create them again: :func:`create_triggers`.

Revision ID: 0021_account_tallies
Revises: 0020_post_narrow
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_account_tallies"
down_revision: str | None = "0020_post_narrow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "unit_id = {r}.unit_id AND platform = {r}.platform AND status = {r}.status"
CHANGED = (
    "OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.platform IS DISTINCT FROM NEW.platform"
    " OR OLD.status IS DISTINCT FROM NEW.status"
)

PG_FUNCTION = f"""
CREATE FUNCTION account_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE account_tallies SET n = n - 1 WHERE {KEY.format(r="OLD")};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO account_tallies (unit_id, platform, status, n)
        VALUES (NEW.unit_id, NEW.platform, NEW.status, 1)
        ON CONFLICT (unit_id, platform, status) DO UPDATE SET n = account_tallies.n + 1;
    END IF;
    RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER accounts_tally_write AFTER INSERT OR DELETE ON accounts"
    " FOR EACH ROW EXECUTE FUNCTION account_tally()",
    "CREATE TRIGGER accounts_tally_change AFTER UPDATE OF unit_id, platform, status ON accounts"
    f" FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION account_tally()",
)


def _sqlite_add(row: str) -> str:
    return (
        "INSERT OR IGNORE INTO account_tallies (unit_id, platform, status, n)"
        f" VALUES ({row}.unit_id, {row}.platform, {row}.status, 0);"
        f" UPDATE account_tallies SET n = n + 1 WHERE {KEY.format(r=row)};"
    )


def _sqlite_take(row: str) -> str:
    return f"UPDATE account_tallies SET n = n - 1 WHERE {KEY.format(r=row)};"


SQLITE_TRIGGERS = (
    f"CREATE TRIGGER accounts_tally_insert AFTER INSERT ON accounts BEGIN {_sqlite_add('NEW')} END",
    f"CREATE TRIGGER accounts_tally_delete AFTER DELETE ON accounts BEGIN {_sqlite_take('OLD')} END",
    "CREATE TRIGGER accounts_tally_change AFTER UPDATE OF unit_id, platform, status ON accounts"
    f" WHEN {CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}"
    f" BEGIN {_sqlite_take('OLD')} {_sqlite_add('NEW')} END",
)
SQLITE_NAMES = ("accounts_tally_insert", "accounts_tally_delete", "accounts_tally_change")


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS accounts_tally_write ON accounts")
        op.execute("DROP TRIGGER IF EXISTS accounts_tally_change ON accounts")
        op.execute("DROP FUNCTION IF EXISTS account_tally()")
    else:
        for name in SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.create_table(
        "account_tallies",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "platform", "status", name=op.f("pk_account_tallies")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # no account is filed between the count and the triggers
        op.execute("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        "INSERT INTO account_tallies (unit_id, platform, status, n)"
        " SELECT unit_id, platform, status, count(*) FROM accounts GROUP BY unit_id, platform, status"
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("account_tallies")
