"""Answering a button press in a way that survives old, deleted and group messages.

A card may be too old to edit (Telegram then hands us an inaccessible message) or may sit in
a group chat; the person who pressed should still see the result, and cards with account
details go to them in private, never to the group.
"""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message


async def edit_or_send(
    query: CallbackQuery,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    **options: Any,
) -> None:
    """Replace the pressed message's text; send a new private message when it cannot be edited."""
    bot, message = query.bot, query.message
    assert bot is not None
    if message is not None:
        try:
            await bot.edit_message_text(
                text=text,
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=reply_markup,
                **options,
            )
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in str(exc).lower():
                return
    await bot.send_message(query.from_user.id, text, reply_markup=reply_markup, **options)


async def reply_to(
    query: CallbackQuery,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    **options: Any,
) -> None:
    """Send the person who pressed a new message, in private."""
    assert query.bot is not None
    await query.bot.send_message(query.from_user.id, text, reply_markup=reply_markup, **options)


def pressed_message(query: CallbackQuery) -> Message | InaccessibleMessage:
    """The message whose button was pressed, to answer in its chat.

    Telegram hands an :class:`InaccessibleMessage` for one older than 48 hours: it can still be
    answered, not edited (see :func:`editable`). Only inline-mode messages come with none, and
    this bot sends none.
    """
    message = query.message
    if message is None:
        raise TypeError("a callback query without a message (the bot sends no inline messages)")
    return message


def editable(message: Message | InaccessibleMessage) -> Message:
    """The message itself, to edit; an inaccessible one (older than 48 hours) cannot be."""
    if not isinstance(message, Message):
        raise TypeError("the pressed message is no longer accessible, so it cannot be edited")
    return message


async def turn_page(
    query: CallbackQuery,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    **options: Any,
) -> None:
    """Show a list's page: in place when the list is the person's own private message; a
    button on a message in a group (a digest, an alert) sends the list to them in private."""
    message = query.message
    if message is not None and message.chat.type == "private":
        await edit_or_send(query, text, reply_markup=reply_markup, **options)
    else:
        await reply_to(query, text, reply_markup=reply_markup, **options)
