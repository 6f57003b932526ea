"""Translations: gettext catalogs in ``bot/locales``, zh_CN by default, en second.

Message ids are the Chinese texts themselves, so the zh_CN catalog is the identity and the en
catalog carries the English. A person's language follows their Telegram client: English
clients read English, everyone else reads Chinese.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from handlers.render import locale_for

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LOCALE = "zh_CN"
DOMAIN = "messages"


def build_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


class LocaleMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        return locale_for(user.language_code if user else None)
