"""Dialogs started from a group continue in private, for every dialog.

Buttons reach groups on notices (a registration to approve, a review card, a case, an alert in
the office's alert chat). A button that asks a question starts a dialog, and a dialog belongs to
the person, not to the group: its prompts and answers may name people or hold what is under
review. So for a press in a group :class:`PrivateDialogs` hands the handler the presser's
*private* dialog state (``state``/``raw_state``), the handler asks in private
(:func:`handlers.replies.reply_to`), and the group gets a one-line pointer, never the contents.
A person who never opened a private chat with the bot cannot be written to: the group is told to
start one, and the half-started dialog is dropped.

aiogram's FSM middleware takes the chat's events-isolation lock and reads the dialog state in
one step, outside every middleware of ours: the read then needed a database session of its own
(a connection, a transaction and its rollback on every update). :class:`DialogLock` and
:class:`DialogState` are its two halves, placed around the update's session: the lock outside
it, so an update's commit happens before the next update of that chat may start (that one
reads the committed state), and the read inside it, in the update's transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.i18n import gettext as _
from loguru import logger

from handlers.render import esc

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def private_context(state: FSMContext, user_id: int) -> FSMContext:
    """The dialog state of ``user_id``'s private chat with the bot."""
    if state.key.chat_id == user_id and state.key.user_id == user_id:
        return state
    key = dataclasses.replace(state.key, chat_id=user_id, user_id=user_id, thread_id=None)
    return FSMContext(storage=state.storage, key=key)


class DialogLock(FSMContextMiddleware):
    """aiogram's FSM middleware without the state read: the chat's lock and ``state`` only."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = self.resolve_event_context(data["bot"], data)
        data["fsm_storage"] = self.storage
        if context is None:
            return await handler(event, data)
        async with self.events_isolation.lock(key=context.key):
            data["state"] = context
            return await handler(event, data)


class DialogState(BaseMiddleware):
    """The dialog state (``raw_state``, for state filters), read in the update's session."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if state is not None:
            data["raw_state"] = await state.get_state()
        return await handler(event, data)


class PrivateDialogs(BaseMiddleware):
    """On callback queries: a group press works on the presser's private dialog state."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if (
            not isinstance(event, CallbackQuery)
            or state is None
            or event.message is None
            or event.message.chat.type == "private"
        ):
            return await handler(event, data)
        person = event.from_user
        private = private_context(state, person.id)
        before = await private.get_state()
        data["state"], data["raw_state"] = private, before
        bot: Bot = data["bot"]
        group = event.message.chat.id
        try:
            result = await handler(event, data)
        except TelegramForbiddenError:  # no private chat with this person yet
            await private.clear()
            await bot.send_message(
                group,
                _("{name}：请先私聊我发送 /start，然后再点一次按钮。").format(
                    name=esc(person.full_name)
                ),
            )
            return None
        after = await private.get_state()
        if after is not None and after != before:
            try:
                await bot.send_message(
                    group,
                    _("{name}：请到与我的私聊中继续。").format(name=esc(person.full_name)),
                    disable_notification=True,
                )
            except Exception:  # the pointer is a courtesy: the dialog itself is under way
                logger.exception("could not post the private-dialog pointer in chat {}", group)
        return result
