"""The update's transaction, seen by the dialog storage and by the bot's outgoing requests.

Each update runs in one database session (``DbSessionMiddleware``). Two things outside the
handler must take part in it:

- **Dialog state.** ``DatabaseStorage`` writes FSM state through the update's session, so a
  state change commits (or rolls back) with the update's data and nothing writes through a
  second connection meanwhile (on SQLite that second writer waited for the first's lock).
- **Replies.** Nothing may confirm what is not yet committed: :class:`CommitBeforeReply`, a
  request middleware on the bot's HTTP session, commits the update's work before any request
  that people see (send, edit, answer …) leaves. A handler that replies and then fails keeps
  what it confirmed; one that fails before replying changes nothing. Handlers never commit.

The current transaction is a :class:`~contextvars.ContextVar` set only while an update's
handler runs, so the outbox sender, jobs and the error handler (which run outside) see none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlmodel.ext.asyncio.session import AsyncSession

from models import outbox

if TYPE_CHECKING:
    from aiogram import Bot


class UpdateTransaction:
    """One update's session, and how to commit it early (before a reply)."""

    def __init__(
        self, session: AsyncSession, *, after_commit: Callable[[], None] | None = None
    ) -> None:
        self.session = session
        self._after_commit = after_commit
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> bool:
        """Whether anything was written (or is waiting to be flushed) since the last commit."""
        s = self.session
        return bool(s.new or s.dirty or s.deleted) or s.in_transaction()

    async def commit(self) -> None:
        async with self._lock:
            if not self.pending:
                return
            await self.session.commit()
        self.committed()

    def committed(self) -> None:
        """After a commit: wake the outbox sender, if the transaction queued a message (most
        updates queue none, and a sender pass is a query and some CPU on the loop)."""
        if self._after_commit is not None and outbox.take_queued(self.session):
            self._after_commit()


_current: ContextVar[UpdateTransaction | None] = ContextVar("update_transaction", default=None)


def current_transaction() -> UpdateTransaction | None:
    """The transaction of the update being handled, or None outside an update's handler."""
    return _current.get()


@contextmanager
def update_transaction(transaction: UpdateTransaction) -> Iterator[UpdateTransaction]:
    token = _current.set(transaction)
    try:
        yield transaction
    finally:
        _current.reset(token)


class CommitBeforeReply(BaseRequestMiddleware):
    """Commit the update's work before any Bot API request other than a read (``get…``)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        transaction = current_transaction()
        if transaction is not None and not _is_read(method):
            await transaction.commit()
        return await make_request(bot, method)


def _is_read(method: TelegramMethod[Any]) -> bool:
    return method.__api_method__.startswith("get")
