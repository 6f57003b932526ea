"""SQLModel tables, one module per aggregate, and the queries over them.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic's target).
Query functions take the session first and everything else by keyword; they flush but never
commit: the caller owns the transaction (one per user action).
"""

from models import (  # noqa: F401  (register tables)
    accounts,
    activity,
    alerts,
    audit,
    cases,
    feeds,
    feedstate,
    findings,
    fsm,
    links,
    outbox,
    people,
    postchecks,
    posts,
    replicas,
    reposts,
    review_match,
    reviews,
    robots,
    routes,
    sweeps,
    tallies,
    webhook,
    websites,
    wordlists,
)
from models.base import metadata

__all__ = ["metadata"]
