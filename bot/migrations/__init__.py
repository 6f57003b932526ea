"""Alembic migrations, shipped inside the installed package (``script_location = bot:migrations``).

Files are named ``NNNN_slug.py`` in chain order and each revision id is its file name, so the
listing reads as the history. Revisions made before that rule had bare numbers that did not
follow the chain (``0004`` came before ``0006``, then ``0005``, ``0003``, ``0008``); a database
still stamped with one of them is re-stamped with its new id before any migration runs
(:func:`translate_legacy_revision`), so it upgrades as if nothing had been renamed.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: The revision ids used before the files were put in chain order → the same revision today.
LEGACY_REVISIONS: dict[str, str] = {
    "0001": "0001_initial",
    "0002": "0002_monitoring",
    "0004": "0003_word_rules",
    "0006": "0004_findings_and_links",
    "0005": "0005_ledger",
    "0003": "0006_review",
    "0008": "0007_cases",
}

VERSION_TABLE = "alembic_version"


def translate_legacy_revision(connection: Connection) -> str | None:
    """Re-stamp a database carrying an old revision id; return the (new) current id or None."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    current = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    if current in LEGACY_REVISIONS:
        new = LEGACY_REVISIONS[current]
        connection.execute(
            sa.text(f"UPDATE {VERSION_TABLE} SET version_num = :new WHERE version_num = :old"),
            {"new": new, "old": current},
        )
        return new
    return current
