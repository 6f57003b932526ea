"""An embedded, in-process Bot API: a test double of Telegram for offline use.

``python -m bot demo`` points the real bot (``TELEGRAM_API_BASE``) at this instead of
api.telegram.org. It implements the subset of the Bot API the product uses — getUpdates (long
polling), sendMessage, editMessageText/ReplyMarkup, deleteMessage, answerCallbackQuery,
sendDocument, sendPhoto, copyMessage, getFile and file downloads, setMyCommands, getMe and the
webhook queries — and keeps every chat's history, so a web page can show the conversations and
let people type, press buttons and upload files as Telegram clients would. Nothing here talks
to Telegram; it is not a Telegram implementation to expose to anyone but the local user.

:class:`BotApiCore` is the shared part (requests in, chats and files stored, updates out);
:meth:`BotApiCore.routes` mounts it on any aiohttp application.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.demo.chats import (
    BOT_ID,
    BOT_NAME,
    BOT_USERNAME,
    IMAGE_TYPES,
    SAVED_FIELDS,
    Chat,
    ChatMessage,
    Person,
    StoredFile,
    demo_token,
    read_params,
)


class BotApiCore:
    """The state of the embedded Bot API: chats, files, queued updates and listeners."""

    def __init__(self, *, token: str | None = None, now: Callable[[], float]) -> None:
        self.token = token or demo_token()
        self._now = now
        self.people: dict[int, Person] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self.default_commands: list[dict[str, str]] = []
        self.closing = False

    # --- who is there ---------------------------------------------------------------------

    def add_person(self, person: Person) -> Chat:
        self.people[person.id] = person
        chat = self.chat(person.id)
        chat.title = person.name
        return chat

    def add_group(self, chat_id: int, title: str, members: tuple[int, ...]) -> Chat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self.chat(chat_id)
        chat.title, chat.members = title, members
        return chat

    def chat(self, chat_id: int) -> Chat:
        if chat_id not in self.chats:  # the bot may write to someone the page has not listed
            self.chats[chat_id] = Chat(chat_id, str(chat_id))
        return self.chats[chat_id]

    # --- saving the chats between runs ---------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Chats and files as JSON-ready data (``load`` restores them on the next start)."""
        return {
            "files": {
                f.file_id: [f.name, f.mime_type, base64.b64encode(f.content).decode()]
                for f in self.files.values()
            },
            "chats": {
                str(chat.id): {
                    "keyboard": chat.reply_keyboard,
                    "messages": [
                        {
                            **{k: getattr(m, k) for k in SAVED_FIELDS},
                            "file": m.file.file_id if m.file else None,
                        }
                        for m in chat.messages
                    ],
                }
                for chat in self.chats.values()
            },
        }

    def load(self, data: dict[str, Any]) -> None:
        for file_id, (name, mime, content) in data.get("files", {}).items():
            self.files[file_id] = StoredFile(file_id, name, mime, base64.b64decode(content))
        top_message = top_file = 0
        for key, saved in data.get("chats", {}).items():
            chat = self.chat(int(key))
            chat.reply_keyboard = saved.get("keyboard")
            for m in saved.get("messages", []):
                stored = self.files.get(m["file"]) if m.get("file") else None
                chat.messages.append(ChatMessage(**{k: m[k] for k in SAVED_FIELDS}, file=stored))
                top_message = max(top_message, int(m["message_id"]))
        for file_id in self.files:
            top_file = max(top_file, int(file_id.lstrip("F") or 0))
        self._message_ids = itertools.count(top_message + 1)
        self._file_ids = itertools.count(top_file + 1)

    # --- listeners (the web page's live updates) ------------------------------------------

    def listen(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.discard(queue)

    def publish(self, event: dict[str, Any]) -> None:
        for queue in list(self._listeners):
            with contextlib.suppress(asyncio.QueueFull):  # a stalled page misses events
                queue.put_nowait(event)

    # --- HTTP -----------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, uploads = await read_params(request)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        try:
            result = self.call(method, params, uploads)
        except LookupError as exc:
            return _error(400, f"Bad Request: {exc}")
        return _ok(result)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for stored in self.files.values():
            if stored.path == request.match_info["path"]:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return web.Response(status=404)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 25.0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout and not self.closing:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self.closing),
                        timeout,
                    )
        return list(self._updates)

    async def close(self) -> None:
        """Answer a waiting long poll at once and end the pages' streams (we are stopping)."""
        self.closing = True
        self.publish({"type": "closing"})
        async with self._changed:
            self._changed.notify_all()

    # --- the bot's methods ----------------------------------------------------------------

    def call(
        self, method: str, params: dict[str, Any], uploads: dict[str, tuple[str, bytes]]
    ) -> Any:
        """Answer one Bot API method; :class:`LookupError` for a bad id."""
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": BOT_NAME,
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method == "sendMessage":
            return self._put(params, text=str(params.get("text", ""))).result()
        if method in {"sendDocument", "sendPhoto"}:
            kind = "document" if method == "sendDocument" else "photo"
            name, content = uploads.get(kind) or self._resend(params.get(kind))
            stored = self.store(content, name)
            caption = str(params.get("caption") or "")
            return self._put(params, text=caption, file=stored, kind=kind).result()
        if method == "copyMessage":
            source = self.find(int(params["from_chat_id"]), int(params["message_id"]))
            copy = self._put(
                params,
                text=source.text,
                file=source.file,
                kind=source.kind,
                html=source.html,
            )
            return {"message_id": copy.message_id}
        if method in {"editMessageText", "editMessageReplyMarkup", "editMessageCaption"}:
            message = self.find(int(params["chat_id"]), int(params["message_id"]))
            if method != "editMessageReplyMarkup":
                message.text = str(params.get("text") or params.get("caption") or "")
                message.html = params.get("parse_mode") == "HTML"
            message.reply_markup = _inline(params.get("reply_markup"))
            message.edited = True
            self.publish({"type": "edit", "message": message.view()})
            return message.result()
        if method == "deleteMessage":
            chat = self.chat(int(params["chat_id"]))
            message_id = int(params["message_id"])
            chat.messages = [m for m in chat.messages if m.message_id != message_id]
            self.publish({"type": "delete", "chat_id": chat.id, "message_id": message_id})
            return True
        if method == "answerCallbackQuery":
            if params.get("text"):
                self.publish(
                    {
                        "type": "toast",
                        "query": str(params.get("callback_query_id", "")),
                        "text": str(params["text"]),
                    }
                )
            return True
        if method == "getFile":
            found = self.files.get(str(params.get("file_id")))
            if found is None:
                raise LookupError("invalid file_id")
            return {
                "file_id": found.file_id,
                "file_unique_id": f"u{found.file_id}",
                "file_size": len(found.content),
                "file_path": found.path,
            }
        if method in {"setMyCommands", "deleteMyCommands"}:
            self._commands(params, [] if method == "deleteMyCommands" else params.get("commands"))
            return True
        return True  # sendChatAction, deleteWebhook, setChatMenuButton...: nothing to show

    def _commands(self, params: dict[str, Any], commands: Any) -> None:
        listed = [
            {"command": str(c.get("command")), "description": str(c.get("description", ""))}
            for c in (commands or [])
            if isinstance(c, dict)
        ]
        scope = params.get("scope") or {}
        if isinstance(scope, dict) and scope.get("type") == "chat":
            chat = self.chat(int(scope["chat_id"]))
            chat.commands = listed
            self.publish({"type": "commands", "chat_id": chat.id, "commands": listed})
        elif not params.get("language_code") and scope.get("type") != "all_group_chats":
            self.default_commands = listed

    def _resend(self, file_id: Any) -> tuple[str, bytes]:
        stored = self.files.get(str(file_id))
        if stored is None:
            raise LookupError("wrong file identifier specified")
        return stored.name, stored.content

    def store(self, content: bytes, name: str, mime_type: str | None = None) -> StoredFile:
        file_id = f"F{next(self._file_ids):05d}"
        suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        mime = mime_type or IMAGE_TYPES.get(suffix, "application/octet-stream")
        stored = StoredFile(file_id, name or "file", mime, content)
        self.files[file_id] = stored
        return stored

    def find(self, chat_id: int, message_id: int) -> ChatMessage:
        for message in self.chat(chat_id).messages:
            if message.message_id == message_id:
                return message
        raise LookupError("message to edit not found")

    def _put(
        self,
        params: dict[str, Any],
        *,
        text: str,
        file: StoredFile | None = None,
        kind: str = "text",
        html: bool | None = None,
    ) -> ChatMessage:
        chat = self.chat(int(params["chat_id"]))
        markup = params.get("reply_markup")
        message = ChatMessage(
            chat_id=chat.id,
            message_id=next(self._message_ids),
            date=int(self._now()),
            sender_id=BOT_ID,
            sender_name=BOT_NAME,
            text=text,
            html=params.get("parse_mode") == "HTML" if html is None else html,
            reply_markup=_inline(markup),
            file=file,
            kind=kind,
        )
        chat.messages.append(message)
        if isinstance(markup, dict) and "keyboard" in markup:
            chat.reply_keyboard = [
                [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
                for row in markup["keyboard"]
            ]
            self.publish({"type": "keyboard", "chat_id": chat.id, "rows": chat.reply_keyboard})
        elif isinstance(markup, dict) and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
            self.publish({"type": "keyboard", "chat_id": chat.id, "rows": None})
        self.publish({"type": "message", "message": message.view()})
        return message

    # --- people acting --------------------------------------------------------------------

    def _queue(self, update: dict[str, Any]) -> int:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._wake())
        return int(update["update_id"])

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _sender(self, person_id: int, chat_id: int) -> tuple[Person, Chat]:
        person = self.people.get(person_id)
        if person is None:
            raise LookupError("no such person")
        chat = self.chats.get(chat_id)
        if chat is None or (chat_id != person_id and person_id not in chat.members):
            raise LookupError("this person is not in that chat")
        return person, chat

    def _chat_object(self, chat: Chat, person: Person) -> dict[str, Any]:
        if chat.is_group:
            return {"id": chat.id, "type": "supergroup", "title": chat.title}
        return {"id": chat.id, "type": "private", "first_name": person.name}

    def record(
        self,
        person_id: int,
        chat_id: int,
        *,
        text: str | None = None,
        upload: StoredFile | None = None,
        as_photo: bool = False,
    ) -> ChatMessage:
        """Put a person's message into the chat's history without telling the bot (seeding)."""
        person, chat = self._sender(person_id, chat_id)
        message = ChatMessage(
            chat_id=chat.id,
            message_id=next(self._message_ids),
            date=int(self._now()),
            sender_id=person.id,
            sender_name=person.name,
            text=text or "",
            file=upload,
            kind="text" if upload is None else ("photo" if as_photo else "document"),
        )
        chat.messages.append(message)
        self.publish({"type": "message", "message": message.view()})
        return message

    def send(
        self,
        person_id: int,
        chat_id: int,
        *,
        text: str | None = None,
        upload: StoredFile | None = None,
        as_photo: bool = False,
    ) -> ChatMessage:
        """A person writes (or uploads) into a chat; the bot receives it as an update."""
        person, chat = self._sender(person_id, chat_id)
        message = self.record(person_id, chat_id, text=text, upload=upload, as_photo=as_photo)
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_object(chat, person),
            "from": person.tg_user(),
        }
        if upload is not None:
            body["photo" if as_photo else "document"] = (
                upload.photo() if as_photo else upload.document()
            )
            if text:
                body["caption"] = text
        elif text is not None:
            body["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self._queue({"message": body})
        return message

    def press(self, person_id: int, chat_id: int, message_id: int, data: str) -> str:
        """A person presses an inline button; the callback query's id."""
        person, chat = self._sender(person_id, chat_id)
        message = self.find(chat.id, message_id)
        buttons = [
            b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row
        ]
        if not any(b.get("callback_data") == data for b in buttons):
            raise LookupError("no such button on that message")
        query_id = f"cq{next(self._update_ids)}"
        self._queue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": person.tg_user(),
                    "chat_instance": f"ci{chat.id}",
                    "data": data,
                    "message": {
                        "message_id": message.message_id,
                        "date": message.date,
                        "chat": self._chat_object(chat, person),
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": BOT_NAME},
                        "text": message.text,
                    },
                }
            }
        )
        return query_id


def _inline(markup: Any) -> dict[str, Any] | None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
