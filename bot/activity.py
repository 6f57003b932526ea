"""Whether the dispatcher is handling an update: the bot's "busy" half of :meth:`BotApp.idle`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateActivity(BaseMiddleware):
    """Counts the updates in flight; the outermost middleware, so an update counts until its
    transaction is committed and the outbox sender is woken for what it queued."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self.in_flight += 1
        self._quiet.clear()
        try:
            return await handler(event, data)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._quiet.set()

    async def quiet(self) -> None:
        """Return once no update is being handled."""
        await self._quiet.wait()
