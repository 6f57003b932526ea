"""Dialog state (aiogram FSM) kept in the database, so a restart mid-dialog loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class DialogState(SQLModel, table=True):
    __tablename__ = "dialog_states"

    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(sa_type=UTCDateTime())
