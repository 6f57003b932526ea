"""The acting person is read once per update: a person whose Telegram profile is unchanged
costs one statement and no commit; first contact, a new name and an ``ADMIN_IDS`` bootstrap
still write, and commit before the handler runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from aiogram.types import Chat
from aiogram.types import User as TgUser

from bot.middlewares import ActorMiddleware
from governance.clock import ManualClock
from governance.roles import Actor, Role
from models import people

pytestmark = pytest.mark.both_backends

ADMIN = 5001
STAFF = 5002


def _tg(telegram_id: int, name: str = "张三") -> TgUser:
    return TgUser(id=telegram_id, is_bot=False, first_name=name, language_code="zh-hans")


async def _act(sessionmaker: Any, middleware: ActorMiddleware, tg_user: TgUser) -> Actor | None:
    seen: dict[str, Any] = {}

    async def handler(event: Any, data: dict[str, Any]) -> None:
        seen.update(data)

    async with sessionmaker() as session:
        chat = Chat(id=tg_user.id, type="private")
        data = {"session": session, "event_from_user": tg_user, "event_chat": chat}
        await middleware(handler, chat, data)
        await session.rollback()  # the handler's work is dropped; the person must stay
    actor: Actor | None = seen["actor"]
    return actor


class _Counter:
    def __init__(self, engine: Any) -> None:
        self.statements = self.commits = 0
        sa.event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine.sync_engine, "commit", self._commit)

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _commit(self, *_args: Any) -> None:
        self.commits += 1


async def test_an_unchanged_person_costs_one_statement_and_no_commit(sessionmaker: Any) -> None:
    middleware = ActorMiddleware(
        admin_ids=[ADMIN], clock=ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    )
    first = await _act(sessionmaker, middleware, _tg(ADMIN))
    assert first is not None and first.is_admin, "ADMIN_IDS bootstraps the admin at first contact"
    counter = _Counter(sessionmaker.kw["bind"])
    again = await _act(sessionmaker, middleware, _tg(ADMIN))
    assert again == first
    assert (counter.statements, counter.commits) == (1, 0)


async def test_first_contact_and_a_new_name_are_kept_though_the_action_is_dropped(
    sessionmaker: Any,
) -> None:
    middleware = ActorMiddleware(
        admin_ids=[ADMIN], clock=ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    )
    actor = await _act(sessionmaker, middleware, _tg(STAFF))
    assert actor is not None and actor.roles == frozenset() and not actor.is_admin
    await _act(sessionmaker, middleware, _tg(STAFF, name="李四"))
    async with sessionmaker() as session:
        user = await people.get_user_by_telegram_id(session, STAFF)
        assert user is not None and user.name == "李四"
        assert user.id == actor.user_id
        assert await people.roles_of(session, user.id) == frozenset()
        admin = await people.get_user_by_telegram_id(session, ADMIN)
        assert admin is None, "only the person acting is created"


async def test_an_admin_id_given_later_is_bootstrapped_on_the_next_update(
    sessionmaker: Any,
) -> None:
    clock = ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    before = await _act(sessionmaker, ActorMiddleware(admin_ids=[], clock=clock), _tg(ADMIN))
    assert before is not None and not before.is_admin
    after = await _act(sessionmaker, ActorMiddleware(admin_ids=[ADMIN], clock=clock), _tg(ADMIN))
    assert after is not None and after.roles == frozenset({Role.ADMIN})
