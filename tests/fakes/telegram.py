"""A local fake Telegram Bot API server that plays the users.

The real bot talks to it through ``TELEGRAM_API_BASE`` exactly as it would to Telegram. Tests
queue updates (messages, commands, button presses) from :class:`FakeUser` objects and read back
every request the bot made (sendMessage, editMessageText, answerCallbackQuery, ...), so they
assert on what people would see.

Files work as in the Bot API: a user's upload (:meth:`FakeUser.send_document`) is stored under a
``file_id``; ``getFile`` answers its ``file_path``, and ``/file/bot<token>/<file_path>`` serves
the bytes, so the bot's own ``bot.download(...)`` runs unchanged. Files the bot sends
(``sendDocument``) are recorded with their bytes in :attr:`Call.files`.

Webhook mode works as in the Bot API too: after the bot's ``setWebhook``, queued updates are
pushed to its URL over HTTP (one at a time, in order, with the secret-token header, retried
until answered 200) and ``getUpdates`` answers 409. :attr:`FakeTelegram.pushes` records each
delivery's HTTP status; :meth:`FakeTelegram.push` posts any body with any secret. For start-up
tests, :attr:`FakeTelegram.redirect_to` makes every Bot API request answer 307 elsewhere.

The product's own offline double, :mod:`bot.demo.botapi` (what ``python -m bot demo`` runs
against), shares its request parsing and message-method set with this one; this fake adds what
only tests need: recorded calls, injected failures and outages, webhook pushes, conflicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.demo.chats import MESSAGE_METHODS
from bot.demo.chats import read_params as _params
from tests.fakes.floodlimit import FloodLimiter

BOT_ID = 777000111
BOT_USERNAME = "gov_media_test_bot"
TOKEN = f"{BOT_ID}:TEST-token-abcdefghijklmnopqrstuvwxyz"
CONFLICT = {
    "ok": False,
    "error_code": 409,
    "description": "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
}
#: Methods that put a message into a chat: what :attr:`FakeTelegram.flood` limits.
FLOOD_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "copyMessage"})


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    result: Any = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # field → (name, bytes)
    at: float = field(default_factory=time.monotonic)
    """When the request arrived (monotonic seconds), to check pacing."""

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def button(self, label: str) -> dict[str, Any]:
        """The first button whose text contains ``label``."""
        for button in self.buttons:
            if label in button["text"]:
                return button
        raise AssertionError(f"no button {label!r} in {[b['text'] for b in self.buttons]}")

    @property
    def document(self) -> bytes:
        """The bytes of the document the bot sent with this call."""
        return self.files["document"][1]

    @property
    def filename(self) -> str:
        return self.files["document"][0]

    @property
    def photo(self) -> bytes:
        """The bytes of the photo the bot sent with this call (``sendPhoto``)."""
        return self.files["photo"][1]

    @property
    def message_id(self) -> int | None:
        if isinstance(self.result, dict):
            return self.result.get("message_id")
        value = self.params.get("message_id")
        return int(value) if value is not None else None


@dataclass
class FakeTelegram:
    """The server. ``async with FakeTelegram() as tg: tg.base`` is the API base URL."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file_id → (path, bytes)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    """Every update handed out by getUpdates, in order, repeats included."""
    webhook_targets: list[str] = field(default_factory=list)
    """Replicas behind one public webhook URL: pushes go to these in turn (a load balancer)."""
    _next_target: itertools.count[int] = field(default_factory=itertools.count)
    quiet: float = 0.15
    """How long :meth:`settle` waits for silence (raise it on a loaded machine)."""
    conflicts: int = 0
    """getUpdates calls made while another live one was waiting (Telegram answers 409)."""
    _long_polls: dict[int, web.Request] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _queued_up_to: int = 0  # the last update id queued
    _confirmed_up_to: int = 0  # the last update id the bot confirmed (getUpdates offset - 1)
    _closing: bool = False
    base: str = ""
    # webhook mode (set by the bot's setWebhook, cleared by deleteWebhook)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    pushes: list[tuple[int, int]] = field(default_factory=list)  # (update_id, HTTP status)
    _push_queue: asyncio.Queue[dict[str, Any]] | None = None
    _pusher: asyncio.Task[None] | None = None
    _push_http: Any = None
    #: When set, every Bot API request is answered "307 Temporary Redirect" to this base.
    redirect_to: str | None = None
    #: Local mode (telegram-bot-api --local): getFile answers an absolute path under
    #: ``local_server_dir`` and the bytes are on disk under ``local_dir`` (the shared volume).
    local_dir: Path | None = None
    local_server_dir: str = "/var/lib/telegram-bot-api"
    #: Awaited with each request (method, params) before it is answered: lets a test look at
    #: the bot's database at the moment a reply arrives.
    on_request: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None
    #: The running bot's "nothing left to do" signal (:meth:`bot.app.BotApp.idle`); the ``app``
    #: fixture sets it. Without it (a bot in another process) :meth:`settle` falls back to
    #: waiting for a quiet period.
    bot_idle: Callable[[], Awaitable[None]] | None = None
    _site: web.TCPSite | None = None
    port: int = 0
    #: While set, every method but getUpdates fails this way: ``"502_html"`` (a proxy's HTML
    #: page), ``"500"`` (a JSON server error); :meth:`go_down` refuses connections instead.
    outage: str | None = None
    #: When set, messages over Telegram's flood limits are answered 429 (see its module).
    flood: FloodLimiter | None = None

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_route("*", "/moved/{tail:.*}", self._moved)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._site = site
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    async def go_down(self) -> None:
        """Stop listening: connections to :attr:`base` are refused until :meth:`come_up`."""
        assert self._site is not None
        await self._site.stop()
        self._site = None

    async def come_up(self) -> None:
        assert self._runner is not None and self._site is None
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self._site = site

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True  # a long poll still open answers at once
        await self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
        if self._push_http is not None:
            await self._push_http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- webhook mode -------------------------------------------------------------------------

    async def push(self, body: bytes | dict[str, Any], *, secret: str | None) -> int:
        """POST ``body`` to the bot's webhook with this secret header; the HTTP status."""
        import aiohttp

        if self._push_http is None:
            self._push_http = aiohttp.ClientSession()
        assert self.webhook_url is not None, "the bot has not called setWebhook"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        url = self.webhook_url
        if self.webhook_targets:  # a load balancer: each attempt goes to the next replica
            url = self.webhook_targets[next(self._next_target) % len(self.webhook_targets)]
        async with self._push_http.post(url, data=data, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def _push_forever(self) -> None:
        assert self._push_queue is not None
        while True:
            update = await self._push_queue.get()
            for attempt in range(100):  # Telegram retries until it gets a 200
                try:
                    status = await self.push(update, secret=self.webhook_secret)
                except OSError:
                    status = 0
                self.pushes.append((int(update["update_id"]), status))
                if status == 200:  # recorded by the bot: what getUpdates' offset confirms
                    self._confirmed_up_to = max(self._confirmed_up_to, int(update["update_id"]))
                    await self._notify()
                    break
                await asyncio.sleep(min(0.01 * 2**attempt, 0.5))

    def _deliver(self, update: dict[str, Any]) -> None:
        if self._push_queue is None:
            self._push_queue = asyncio.Queue()
            self._pusher = asyncio.get_running_loop().create_task(self._push_forever())
        self._push_queue.put_nowait(update)

    async def _moved(self, request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Moved here</body></html>", content_type="text/html")

    # --- the API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.redirect_to is not None:
            raise web.HTTPTemporaryRedirect(f"{self.redirect_to}{request.path}")
        if request.match_info["token"] != TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params, files = await _params(request)
        if method == "getUpdates" and self.webhook_url is not None:
            conflict = {
                "ok": False,
                "error_code": 409,
                "description": "Conflict: can't use getUpdates method while webhook is active",
            }
            return web.json_response(conflict, status=409)
        if method == "getUpdates":
            live = [
                r for r in self._long_polls.values() if r.transport and not r.transport.is_closing()
            ]
            if live:  # two bot instances polling at once
                self.conflicts += 1
                return web.json_response(CONFLICT, status=409)
            self._long_polls[id(request)] = request
            try:
                updates = await self._get_updates(params)
            finally:
                self._long_polls.pop(id(request), None)
            self.delivered.extend(updates)
            return web.json_response({"ok": True, "result": updates})
        if method == "setWebhook":
            self.webhook_url = str(params["url"])
            self.webhook_secret = params.get("secret_token")
            if str(params.get("drop_pending_updates")).lower() == "true":
                self._updates.clear()
            for pending in self._updates:  # what getUpdates had not handed out yet
                self._deliver(pending)
            self._updates = []
        elif method == "deleteWebhook":
            self.webhook_url = self.webhook_secret = None
        if self.on_request is not None:
            await self.on_request(method, params)
        if self.outage == "502_html":
            self._record(Call(method, params, {"ok": False, "error_code": 502}))
            return web.Response(
                status=502,
                text="<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                content_type="text/html",
            )
        if self.outage == "500":
            failure = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            self._record(Call(method, params, failure))
            return web.json_response(failure, status=500)
        failure = self._next_failure(method, params)
        if failure is not None:
            self._record(Call(method, params, failure))
            return web.json_response(failure, status=failure["error_code"])
        if self.flood is not None and method in FLOOD_METHODS:
            retry_after = self.flood.admit(int(params.get("chat_id") or 0))
            if retry_after:
                failure = {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                }
                self._record(Call(method, params, failure))
                return web.json_response(failure, status=429)
        if method == "getFile":
            found = self._get_file(params)
            if found is None:
                failure = {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: invalid file_id",
                }
                self._record(Call(method, params, failure))
                return web.json_response(failure, status=400)
            self._record(Call(method, params, found))
            return web.json_response({"ok": True, "result": found})
        result = self._result(method, params)
        self._record(Call(method, params, result, files))
        return web.json_response({"ok": True, "result": result})

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any] | None:
        file_id = str(params.get("file_id"))
        if file_id not in self.uploads:
            return None
        path, content = self.uploads[file_id]
        if self.local_dir is not None:
            on_disk = self.local_dir / TOKEN / path
            on_disk.parent.mkdir(parents=True, exist_ok=True)
            on_disk.write_bytes(content)
            path = f"{self.local_server_dir}/{TOKEN}/{path}"
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(content),
            "file_path": path,
        }

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored_path, content in self.uploads.values():
            if stored_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(status=404)

    def upload(
        self,
        content: bytes,
        file_name: str,
        *,
        mime_type: str = "application/octet-stream",
        file_size: int | None = None,
    ) -> dict[str, Any]:
        """Store a user's file as Telegram would; return the message's ``document`` object."""
        number = next(self._file_ids)
        file_id = f"DOC{number:04d}"
        suffix = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        self.uploads[file_id] = (f"documents/file_{number}.{suffix}", content)
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content) if file_size is None else file_size,
        }

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _next_failure(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        queue = self.failures.get(method)
        if queue:
            return queue.pop(0)
        return None

    def fail_next(
        self, method: str, *, code: int = 429, retry_after: int = 1, description: str | None = None
    ) -> None:
        """Make the next call of ``method`` fail like Telegram would."""
        failure: dict[str, Any] = {"ok": False, "error_code": code}
        if code == 429:
            failure["description"] = description or f"Too Many Requests: retry after {retry_after}"
            failure["parameters"] = {"retry_after": retry_after}
        else:
            failure["description"] = description or "Error"
        self.failures.setdefault(method, []).append(failure)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        async with self._changed:
            if offset - 1 > self._confirmed_up_to:
                # the bot took the updates before ``offset`` and handed each to its dispatcher
                self._confirmed_up_to = offset - 1
                self._changed.notify_all()
            if not self._updates and timeout and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._closing),
                        timeout,
                    )
        return list(self._updates)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getWebhookInfo":
            return {
                "url": self.webhook_url or "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "治理机器人",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in {"sendMessage", "sendDocument", "sendPhoto", "copyMessage"}:
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self._message_ids),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "治理机器人",
                    "username": BOT_USERNAME,
                },
                "text": params.get("text", ""),
            }
            if method == "copyMessage":
                return {"message_id": message["message_id"]}
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        if method == "editMessageText":
            chat_id = int(params["chat_id"])
            return {
                "message_id": int(params["message_id"]),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "text": params.get("text", ""),
            }
        return True

    # --- playing users ------------------------------------------------------------------------

    def queue(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self._queued_up_to = update["update_id"]
        if self.webhook_url is not None:
            self._deliver(update)
            return
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())

    def user(
        self,
        user_id: int,
        name: str = "用户",
        *,
        language_code: str = "zh-hans",
        username: str | None = None,
    ) -> FakeUser:
        return FakeUser(self, user_id, name, language_code, username)

    def mark(self) -> int:
        return len(self.calls)

    async def wait_for(
        self, predicate: Callable[[Call], bool], *, since: int = 0, timeout: float = 10.0
    ) -> Call:
        """The first call after ``since`` matching ``predicate``; fails the test on timeout."""

        async def found() -> Call:
            async with self._changed:
                while True:
                    for call in self.calls[since:]:
                        if predicate(call):
                            return call
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            seen = [(c.method, c.chat_id, c.text[:60]) for c in self.calls[since:]]
            raise AssertionError(f"no matching request within {timeout}s; saw {seen}") from None

    async def until(self, condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
        """Wait until ``condition()`` holds, rechecking after each request the bot makes."""

        async def holds() -> None:
            async with self._changed:
                await self._changed.wait_for(condition)

        try:
            await asyncio.wait_for(holds(), timeout)
        except TimeoutError:
            raise AssertionError(f"condition not met within {timeout}s") from None

    async def settle(self, *, timeout: float = 10.0) -> None:
        """Wait until the bot took every queued update and has nothing left to do now.

        "Nothing left" is the bot's own signal (:attr:`bot_idle`): its updates are handled and
        committed and its outbox sender found nothing it may send at the clock's current time.
        """
        try:
            await asyncio.wait_for(self._settled(), timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not settle within {timeout}s") from None

    async def _settled(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._confirmed_up_to >= self._queued_up_to)
        if self.bot_idle is not None:
            await self.bot_idle()
            return
        while True:  # a bot in another process: wait for a quiet period instead
            count = len(self.calls)
            await asyncio.sleep(self.quiet)
            if len(self.calls) == count:
                return

    def sent_to(self, chat_id: int, *, since: int = 0) -> list[Call]:
        return [
            c for c in self.calls[since:] if c.method in MESSAGE_METHODS and c.chat_id == chat_id
        ]


@dataclass
class FakeUser:
    tg: FakeTelegram
    id: int
    name: str
    language_code: str = "zh-hans"
    username: str | None = None
    chat_id: int | None = None

    def __post_init__(self) -> None:
        if self.chat_id is None:
            self.chat_id = self.id

    @property
    def tg_user(self) -> dict[str, Any]:
        user = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.name,
            "language_code": self.language_code,
        }
        if self.username:
            user["username"] = self.username
        return user

    def in_group(self, chat_id: int) -> FakeUser:
        return FakeUser(self.tg, self.id, self.name, self.language_code, self.username, chat_id)

    def _chat(self) -> dict[str, Any]:
        if self.chat_id == self.id:
            return {"id": self.id, "type": "private", "first_name": self.name}
        return {"id": self.chat_id, "type": "supergroup", "title": "预警群"}

    async def send(self, text: str | None = None, **extra: Any) -> list[Call]:
        """Send a message; return what the bot sent to this chat in response."""
        mark = self.tg.mark()
        message: dict[str, Any] = {
            "message_id": next(self.tg._message_ids),
            "date": 1_700_000_000,
            "chat": self._chat(),
            "from": self.tg_user,
            **extra,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.tg.queue({"message": message})
        return await self._replies(mark)

    async def send_document(
        self,
        content: bytes,
        file_name: str,
        *,
        caption: str | None = None,
        file_size: int | None = None,
    ) -> list[Call]:
        """Upload a file (a document message); return what the bot sent in response."""
        document = self.tg.upload(content, file_name, file_size=file_size)
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        return await self.send(None, **extra)

    async def send_many(self, messages: list[dict[str, Any]]) -> list[Call]:
        """Send several messages at once (an album arrives like this); return the replies."""
        mark = self.tg.mark()
        for extra in messages:
            message: dict[str, Any] = {
                "message_id": next(self.tg._message_ids),
                "date": 1_700_000_000,
                "chat": self._chat(),
                "from": self.tg_user,
                **extra,
            }
            self.tg.queue({"message": message})
        return await self._replies(mark)

    async def press(self, call: Call, label: str) -> list[Call]:
        """Press the button labelled ``label`` on the message ``call`` sent or edited."""
        button = call.button(label)
        return await self.press_data(call, button["callback_data"])

    async def press_data(self, call: Call, data: str) -> list[Call]:
        mark = self.tg.mark()
        query_id = f"cq{next(self.tg._update_ids)}"
        self.tg.queue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.tg_user,
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": call.message_id or 1,
                        "date": 1_700_000_000,
                        "chat": self._chat(),
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "治理机器人"},
                        "text": call.text,
                    },
                }
            }
        )
        await self.tg.wait_for(
            lambda c: (
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
            ),
            since=mark,
        )
        await self.tg.settle()
        return [
            c
            for c in self.tg.calls[mark:]
            if (c.method in MESSAGE_METHODS and c.chat_id == self.chat_id)
            or (c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id)
        ]

    async def _replies(self, mark: int) -> list[Call]:
        await self.tg.wait_for(
            lambda c: c.method in MESSAGE_METHODS and c.chat_id == self.chat_id, since=mark
        )
        await self.tg.settle()
        return self.tg.sent_to(self.chat_id or self.id, since=mark)

    async def inbox(self, *, since: int = 0, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until at least ``count`` messages reached this chat after ``since``."""

        chat_id = self.chat_id or self.id
        try:
            await self.tg.until(
                lambda: len(self.tg.sent_to(chat_id, since=since)) >= count, timeout=timeout
            )
        except AssertionError:
            raise AssertionError(f"{self.name} got fewer than {count} messages") from None
        return self.tg.sent_to(chat_id, since=since)
