"""The last word on anything a handler raised.

A refusal (:class:`UserFacingError`) is shown to the person as it is; anything else is a bug:
logged with its context under a short reference number, and the person gets an apology with
that number instead of silence. The session was already rolled back by the middleware.
"""

from __future__ import annotations

import html
import re
import secrets

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from loguru import logger

from governance.errors import UserFacingError
from handlers.render import error_text, locale_of_update

router = Router(name=__name__)


@router.errors()
async def on_error(event: ErrorEvent, i18n: I18n, bot: Bot) -> bool:
    update: Update = event.update
    exc = event.exception
    with i18n.context(), i18n.use_locale(locale_of_update(update)):
        if isinstance(exc, UserFacingError):
            text = error_text(exc)
            logger.info("update {} refused: {}", update.update_id, exc)
        else:
            ref = secrets.token_hex(4).upper()
            logger.opt(exception=exc).error(
                "unhandled error ref={} update={} type={} user={} chat={}",
                ref,
                update.update_id,
                update.event_type,
                _user_id(update),
                _chat_id(update),
            )
            text = _(
                "抱歉，处理时出现了意外错误。参考编号：{ref}。请稍后重试，或把编号告诉管理员。"
            ).format(ref=ref)
        try:
            if update.callback_query is not None:  # an alert is plain text, not HTML
                plain = html.unescape(re.sub(r"<[^>]+>", "", text))
                try:
                    await update.callback_query.answer(plain[:200], show_alert=True)
                except TelegramBadRequest:  # the handler had answered already: say it in chat
                    await bot.send_message(update.callback_query.from_user.id, text)
            elif update.message is not None:
                await update.message.answer(text)
        except Exception:  # the apology itself failed: nothing more to do than log
            logger.exception("could not deliver the error reply for update {}", update.update_id)
    return True


def _user_id(update: Update) -> int | None:
    event = update.event
    user = getattr(event, "from_user", None)
    return user.id if user else None


def _chat_id(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat.id
    return None
