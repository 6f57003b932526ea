"""Webhook mode: Telegram pushes updates to our aiohttp app (aiogram's webhook helpers).

Every request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``WEBHOOK_SECRET``
(aiogram's :class:`SimpleRequestHandler` answers 401 otherwise and nothing is read); bodies
over ``WEBHOOK_MAX_BODY_BYTES`` get 413 from aiohttp. An accepted update is first written to
the ``webhook_updates`` table and committed, then answered 200 at once, then processed in the
background; the row is marked processed afterwards. If the process dies in between, the row's
claim expires and a sweeper (in any replica) processes it again, so no update is lost; one may
be processed twice after a crash (at least once), never twice while its row exists.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.metrics import ProcessMetrics
from governance.clock import Clock
from models import webhook as inbox

#: How long a replica owns an update it is processing before another may take it over.
CLAIM = timedelta(seconds=60)
#: Processed rows are kept this long to recognise Telegram's redeliveries.
KEEP = timedelta(days=1)


class RecordingRequestHandler(SimpleRequestHandler):
    """aiogram's handler, with "record, answer, then process" instead of "answer, then hope"."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        secret_token: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        metrics: ProcessMetrics,
    ) -> None:
        super().__init__(dispatcher, bot, handle_in_background=True, secret_token=secret_token)
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.count = metrics.webhook_updates

    async def handle(self, request: web.Request) -> web.Response:
        response = await super().handle(request)
        if response.status == 401:
            self.count.labels(outcome="rejected").inc()
        return response

    async def close(self) -> None:
        """The bot session belongs to the app, which closes it; wait for running updates."""
        if self._background_feed_update_tasks:
            await asyncio.wait(set(self._background_feed_update_tasks), timeout=10)

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            update: dict[str, Any] = json.loads(await request.read())
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            self.count.labels(outcome="rejected").inc()
            return web.Response(status=400, text="not an update")
        async with self.sessionmaker() as session:
            fresh = await inbox.record(
                session,
                update_id=update_id,
                payload=json.dumps(update, ensure_ascii=False),
                now=self.clock.now(),
                lease=CLAIM,
            )
            await session.commit()
        if not fresh:
            self.count.labels(outcome="duplicate").inc()
            return web.json_response({})
        self.count.labels(outcome="recorded").inc()
        self.spawn(update_id, update)
        return web.json_response({})

    def in_flight(self) -> set[asyncio.Task[Any]]:
        return set(self._background_feed_update_tasks)

    async def drain(self) -> None:
        """Until every update answered so far has been processed."""
        while self._background_feed_update_tasks:
            await asyncio.wait(set(self._background_feed_update_tasks))

    def spawn(self, update_id: int, update: dict[str, Any]) -> None:
        task = asyncio.create_task(self._process(update_id, update), name=f"update-{update_id}")
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)

    async def _process(self, update_id: int, update: dict[str, Any]) -> None:
        try:
            await self._background_feed_update(bot=self.bot, update=update)
        except Exception:
            # Left claimed: the sweeper retries it once the claim expires.
            self.count.labels(outcome="failed").inc()
            logger.exception("update {} failed; it will be retried", update_id)
            return
        async with self.sessionmaker() as session:
            await inbox.mark_processed(session, update_id=update_id, now=self.clock.now())
            await session.commit()
        self.count.labels(outcome="processed").inc()

    async def sweep(self) -> int:
        """Process updates whose claim expired (a replica died, or processing failed)."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            rows = await inbox.claim_stale(session, now=now, lease=CLAIM)
            await inbox.prune(session, before=now - KEEP)
            await session.commit()
        for row in rows:
            self.spawn(row.update_id, json.loads(row.payload))
        return len(rows)

    async def sweep_forever(self, every: float = 15.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                if resumed := await self.sweep():
                    logger.info("webhook: resumed {} unprocessed updates", resumed)
            except Exception as exc:  # the database may be away for a while; try again later
                logger.warning("webhook sweep failed: {}", type(exc).__name__)
