"""What the embedded Bot API stores: people, chats, their messages and files.

Split from :mod:`bot.demo.botapi` (which answers the requests): these are the records both the
bot's methods and the demo page read, and the parsing of a Bot API request's parameters, which
the tests' fake Telegram shares.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.demo.html import telegram_html

BOT_ID = 777000111
BOT_USERNAME = "gov_media_demo_bot"
BOT_NAME = "治理机器人"
#: Methods whose result is a message the bot put into a chat.
MESSAGE_METHODS = frozenset(
    {"sendMessage", "editMessageText", "sendDocument", "sendPhoto", "copyMessage"}
)
SAVED_FIELDS = (
    "chat_id",
    "message_id",
    "date",
    "sender_id",
    "sender_name",
    "text",
    "html",
    "reply_markup",
    "kind",
    "edited",
)
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}


def demo_token() -> str:
    """A fresh token in Telegram's shape (the bot's settings validate it)."""
    return f"{BOT_ID}:DEMO{secrets.token_hex(16)}"


@dataclass(slots=True)
class StoredFile:
    """A file someone sent (a person's upload or the bot's document/photo)."""

    file_id: str
    name: str
    mime_type: str
    content: bytes

    @property
    def path(self) -> str:
        return f"files/{self.file_id}/{self.name}"

    def document(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": f"u{self.file_id}",
            "file_name": self.name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def photo(self) -> list[dict[str, Any]]:
        size = {"file_id": self.file_id, "file_unique_id": f"u{self.file_id}"}
        return [{**size, "width": 1280, "height": 960, "file_size": len(self.content)}]


@dataclass(slots=True)
class ChatMessage:
    """One message in one chat, as both the bot and the web page need it."""

    chat_id: int
    message_id: int
    date: int
    sender_id: int
    sender_name: str
    text: str = ""
    html: bool = False  # the text is Telegram HTML (the bot's parse_mode) rather than plain
    reply_markup: dict[str, Any] | None = None
    file: StoredFile | None = None
    kind: str = "text"  # text, document or photo
    edited: bool = False

    @property
    def from_bot(self) -> bool:
        return self.sender_id == BOT_ID

    def result(self) -> dict[str, Any]:
        """The Bot API's Message object for the bot's own message."""
        chat: dict[str, Any] = {"id": self.chat_id, "type": "private"}
        if self.chat_id < 0:
            chat = {"id": self.chat_id, "type": "supergroup", "title": "group"}
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": chat,
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": BOT_NAME,
                "username": BOT_USERNAME,
            },
        }
        if self.kind == "text":
            message["text"] = self.text
        elif self.text:
            message["caption"] = self.text
        if self.file is not None:
            message[self.kind] = self.file.photo() if self.kind == "photo" else self.file.document()
        if self.reply_markup is not None:
            message["reply_markup"] = self.reply_markup
        if self.edited:
            message["edit_date"] = self.date
        return message

    def view(self) -> dict[str, Any]:
        """What the web page shows (rendering the HTML subset is the page's business)."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "date": self.date,
            "from_bot": self.from_bot,
            "sender": self.sender_name,
            "text": self.text,
            "html": telegram_html(self.text, is_html=self.html),
            "kind": self.kind,
            "file": None
            if self.file is None
            else {"id": self.file.file_id, "name": self.file.name, "mime": self.file.mime_type},
            "inline_keyboard": (self.reply_markup or {}).get("inline_keyboard"),
            "edited": self.edited,
        }


@dataclass(slots=True)
class Chat:
    id: int
    title: str
    members: tuple[int, ...] = ()  # for group chats: who may speak there
    messages: list[ChatMessage] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    commands: list[dict[str, str]] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.id < 0


@dataclass(slots=True)
class Person:
    """A Telegram user the local user can act as."""

    id: int
    name: str
    language_code: str = "zh-hans"

    def tg_user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.name,
            "language_code": self.language_code,
        }


async def read_params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """A Bot API request's parameters, and the files it uploaded (field → (name, bytes))."""
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        raw: dict[str, Any] = await request.json()
    else:
        form = await request.post()
        raw = {k: v for k, v in form.items() if isinstance(v, str)}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename, value.file.read())
                raw[key] = "<file>"
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    for key, value in list(params.items()):  # "document": "attach://<field>" as the API resolves
        if isinstance(value, str) and value.startswith("attach://"):
            field_name = value.removeprefix("attach://")
            if field_name in files:
                files[key] = files[field_name]
    return params, files
