"""Per-update dependencies: a database session and the acting person.

Both run as outer middlewares on every update, inside aiogram's ``ErrorsMiddleware``: an
exception rolls the session back before the error handler answers, so a refused or failed
action changes nothing (one transaction per user action).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.transaction import UpdateTransaction, update_transaction
from governance.clock import Clock
from governance.roles import Actor, Role
from handlers.render import locale_for
from models import people, replicas

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """Open one session per update; commit when the handler returns, roll back if it raises.

    While the handler runs the session is the update's transaction (:mod:`bot.transaction`):
    dialog state is written through it, and a reply commits it first. ``after_commit`` runs
    after each commit (e.g. to wake the outbox sender for what the update queued).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.after_commit = after_commit

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            transaction = UpdateTransaction(session, after_commit=self.after_commit)
            with update_transaction(transaction):  # dialog state and replies join it
                try:
                    result = await handler(event, data)
                except BaseException:
                    await session.rollback()
                    raise
            await session.commit()
        transaction.committed()
        return result


class UpdateOnceMiddleware(BaseMiddleware):
    """Handle each Telegram update once, even when Telegram hands it out again.

    A new polling leader starts without the old one's offset, and a webhook delivery is retried
    when its answer was lost, so an update may arrive twice. Its id is recorded when its handler
    has finished (in the update's last transaction); an id already recorded is skipped. The
    events isolation (one update per chat at a time) makes a second copy wait for the first.
    An update whose handler failed is not recorded, so a redelivery gets another chance.

    ``record=False`` (one process on SQLite, long polling): no replica shares the updates and
    no webhook retries one; aiogram confirms each batch's offset on its next ``getUpdates``, so
    a copy could only come back after a crash in between. There the row per update is not
    worth its cost: it made every update, even a read-only list, a writer queueing for SQLite's
    one write lock behind the jobs (and failing after the 30 s busy timeout under load).
    """

    def __init__(self, *, replica: str, clock: Clock, record: bool = True) -> None:
        self.replica = replica
        self.clock = clock
        self.record = record

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update) or not self.record:
            return await handler(event, data)
        session: AsyncSession = data["session"]
        if await session.get(replicas.HandledUpdate, event.update_id) is not None:
            return None
        result = await handler(event, data)
        await replicas.mark_update_handled(
            session,
            update_id=event.update_id,
            replica=self.replica,
            now=self.clock.now(),
            # no transaction open: the handler's writes were committed before its reply
            alone=not session.in_transaction(),
        )
        return result


class ActorMiddleware(BaseMiddleware):
    """Load (in private chats: create) the person acting, and bootstrap ``ADMIN_IDS``.

    Handlers receive ``user`` (our row) and ``actor`` (what the permission rules need). Group
    chatter does not create people: only private contact or a button press does.

    """

    def __init__(self, *, admin_ids: list[int], clock: Clock) -> None:
        self.admin_ids = frozenset(admin_ids)
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        session: AsyncSession = data["session"]
        data["user"], data["actor"] = None, None
        if tg_user is not None and not tg_user.is_bot:
            user, roles = await people.person_by_telegram_id(session, tg_user.id)
            if user is not None or chat is None or chat.type == "private":
                data["user"], data["actor"] = await self._person(session, tg_user, user, roles)
        return await handler(event, data)

    async def _person(
        self,
        session: AsyncSession,
        tg_user: TgUser,
        user: people.User | None,
        roles: frozenset[Role],
    ) -> tuple[people.User, Actor]:
        """The person and their roles, as read (most updates: nothing to write); the first
        contact, a new name or locale, or an admin to bootstrap write, and commit at once: a
        refused action must not undo who the person is."""
        name, username = tg_user.full_name, tg_user.username
        locale = locale_for(tg_user.language_code)
        wrote = user is None or people.profile_changed(
            user, name=name, username=username, locale=locale
        )
        now = self.clock.now()
        if user is None or wrote:
            user, _ = await people.upsert_person(
                session,
                telegram_id=tg_user.id,
                name=name,
                username=username,
                locale=locale,
                now=now,
            )
        assert user.id is not None
        if tg_user.id in self.admin_ids and Role.ADMIN not in roles:
            await people.bootstrap_admin(session, telegram_id=tg_user.id, now=now)
            roles = await people.roles_of(session, user.id)
            wrote = True
        if wrote:
            await session.commit()
        return user, people.actor_with(user, roles)
