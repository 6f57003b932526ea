"""The demo's web page and its JSON/SSE API, on the same loopback server as the embedded Bot API.

The page (``bot/demo/static``, plain HTML and JavaScript shipped with the package) lists the
personas and the alert group; it sends what you type, the buttons you press and the files you
upload through :class:`~bot.demo.botapi.BotApiCore`, and receives every message as it is sent
by Server-Sent Events (``/api/events``). Requests must carry the page's token header (a page on
another site cannot forge that) and a loopback ``Host`` (no DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.demo.botapi import BotApiCore
from bot.demo.scenario import PERSONAS

STATIC = resources.files("bot.demo") / "static"
FONT_DIR = resources.files("documents") / "fonts"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
MAX_UPLOAD = 20 * 1024 * 1024
TOKEN_HEADER = "X-Demo-Token"


@dataclass(slots=True)
class DemoControls:
    """What the page may ask of the running demo beyond chatting."""

    now: Callable[[], datetime]
    speed: float
    advance: Callable[[timedelta], Awaitable[datetime]]
    timezone: str
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))


def build_demo_app(api: BotApiCore, controls: DemoControls) -> web.Application:
    """One aiohttp app: the Bot API (for the bot), the farm is added by the caller, the page."""
    app = web.Application(client_max_size=MAX_UPLOAD, middlewares=[_guard(controls)])
    api.routes(app)
    page = _Page(api, controls)
    app.router.add_get("/", page.index)
    app.router.add_get("/static/{name}", page.static)
    app.router.add_get("/font.ttf", page.font)
    app.router.add_get("/api/state", page.state)
    app.router.add_get("/api/chats/{chat_id}", page.history)
    app.router.add_get("/api/events", page.events)
    app.router.add_post("/api/send", page.send)
    app.router.add_post("/api/press", page.press)
    app.router.add_post("/api/upload", page.upload)
    app.router.add_post("/api/clock", page.clock)
    app.router.add_get("/files/{file_id}", page.download)
    return app


def _guard(controls: DemoControls) -> Any:
    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        host = (request.host or "").rsplit(":", 1)[0]
        if host not in _LOOPBACK_HOSTS:
            return web.Response(status=403, text="the demo answers on loopback only")
        forged = request.headers.get(TOKEN_HEADER) != controls.token
        if request.path.startswith("/api/") and request.method == "POST" and forged:
            return web.Response(status=403, text="missing the page's token")
        return await handler(request)

    return guard


class _Page:
    def __init__(self, api: BotApiCore, controls: DemoControls) -> None:
        self.api = api
        self.controls = controls

    async def index(self, request: web.Request) -> web.Response:
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        html = html.replace("__DEMO_TOKEN__", self.controls.token)
        return web.Response(text=html, content_type="text/html", headers=_NO_CACHE)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {"js": "application/javascript", "css": "text/css"}
        kind = types.get(name.rsplit(".", 1)[-1])
        if kind is None or "/" in name or name.startswith("."):
            raise web.HTTPNotFound()
        path = STATIC / name
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(text=path.read_text(encoding="utf-8"), content_type=kind)

    async def font(self, request: web.Request) -> web.Response:
        """The CJK font the charts ship with, so the page reads well without system fonts."""
        body = (FONT_DIR / "wqy-microhei-gb2312.ttf").read_bytes()
        return web.Response(body=body, content_type="font/ttf", headers=_CACHE)

    def _clock(self) -> dict[str, Any]:
        return {
            "now": self.controls.now().isoformat(),
            "speed": self.controls.speed,
            "timezone": self.controls.timezone,
        }

    async def state(self, request: web.Request) -> web.Response:
        personas = [
            {
                "key": p.key,
                "id": p.telegram_id,
                "name": p.name,
                "role": p.role_label,
                "unit": p.unit or ("政务公开办" if p.roles else "尚未加入：点同事发来的邀请链接"),
            }
            for p in PERSONAS
        ]
        groups = [
            {"id": c.id, "title": c.title, "members": list(c.members)}
            for c in self.api.chats.values()
            if c.is_group
        ]
        return web.json_response({"personas": personas, "groups": groups, "clock": self._clock()})

    async def history(self, request: web.Request) -> web.Response:
        chat = self.api.chats.get(_int(request.match_info["chat_id"]))
        if chat is None:
            raise web.HTTPNotFound()
        return web.json_response(
            {
                "id": chat.id,
                "title": chat.title,
                "messages": [m.view() for m in chat.messages],
                "keyboard": chat.reply_keyboard,
                "commands": chat.commands or self.api.default_commands,
            }
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue = self.api.listen()
        try:
            await response.write(_event({"type": "clock", **self._clock()}))
            while not self.api.closing:
                try:
                    event = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                await response.write(_event(event))
                if event["type"] == "closing":
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.api.unlisten(queue)
        return response

    async def send(self, request: web.Request) -> web.Response:
        body = await _json(request)
        text = str(body.get("text") or "").strip()
        if not text:
            return _bad("empty message")
        return await self._act(
            lambda: self.api.send(_int(body.get("persona")), _int(body.get("chat")), text=text)
        )

    async def press(self, request: web.Request) -> web.Response:
        body = await _json(request)
        return await self._act(
            lambda: self.api.press(
                _int(body.get("persona")),
                _int(body.get("chat")),
                _int(body.get("message_id")),
                str(body.get("data") or ""),
            )
        )

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _bad("no file")
        content = upload.file.read()
        stored = self.api.store(content, upload.filename or "file", upload.content_type)
        as_photo = stored.mime_type.startswith("image/") and form.get("as_photo") != "0"
        caption = str(form.get("caption") or "").strip() or None
        persona, chat = _int(form.get("persona")), _int(form.get("chat"))
        return await self._act(
            lambda: self.api.send(persona, chat, text=caption, upload=stored, as_photo=as_photo)
        )

    async def _act(self, action: Callable[[], object]) -> web.Response:
        try:
            result = action()
        except (LookupError, ValueError) as exc:
            return _bad(str(exc))
        if hasattr(result, "view"):
            return web.json_response({"ok": True, "message": result.view()})
        return web.json_response({"ok": True, "result": result})

    async def clock(self, request: web.Request) -> web.Response:
        body = await _json(request)
        hours = float(body.get("hours") or 0) + 24 * float(body.get("days") or 0)
        if not 0 < hours <= 24 * 30:
            return _bad("move between 1 hour and 30 days")
        await self.controls.advance(timedelta(hours=hours))
        return web.json_response({"ok": True, "type": "clock", **self._clock()})

    async def download(self, request: web.Request) -> web.Response:
        stored = self.api.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        inline = stored.mime_type.startswith("image/") and "download" not in request.query
        disposition = "inline" if inline else "attachment"
        return web.Response(
            body=stored.content,
            content_type=stored.mime_type,
            headers={
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(stored.name)}",
                "X-Content-Type-Options": "nosniff",
            },
        )


_NO_CACHE = {"Cache-Control": "no-store"}
_CACHE = {"Cache-Control": "max-age=86400"}


def _event(event: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise web.HTTPBadRequest(text="not a number") from None


async def _json(request: web.Request) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        body = await request.json()
        if isinstance(body, dict):
            return body
    return {}


def _bad(reason: str) -> web.Response:
    return web.json_response({"ok": False, "error": reason}, status=400)
