"""The connection to the Bot API: the aiogram session (proxy, local server) and the start-up probe.

``TELEGRAM_PROXY`` carries every Bot API request: ``socks5://``, ``socks4://`` and ``http://``
through aiogram's own proxy support (aiohttp-socks), ``https://`` (TLS to the proxy itself)
through aiohttp's native proxy support. Credentials in the proxy URL are secrets: they are
shown as ``***`` wherever the proxy is named (:func:`redact_url`) and blanked by the log sink.

The feed fetcher does not use this proxy: feeds are fetched directly, each hop checked by the
SSRF guard (``feeds/netguard.py``) against the address actually connected to. Behind a proxy the
guard would only see the proxy's address, never the feed's, so it could no longer refuse
intranet targets; hence no ``FEED_PROXY`` (reach foreign feeds through RSSHub instead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import (
    PRODUCTION,
    BareFilesPathWrapper,
    SimpleFilesPathWrapper,
    TelegramAPIServer,
)
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import User
from aiohttp_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError
from loguru import logger

from bot.settings import Settings
from governance.errors import GovernanceError

DEFAULT_API = "https://api.telegram.org"


class StartupError(GovernanceError):
    """Start-up cannot go on; ``line`` is the one Chinese line the operator reads."""

    def __init__(self, line: str, *, exit_code: int = 1) -> None:
        super().__init__(line)
        self.line = line
        self.exit_code = exit_code


def redact_url(url: str) -> str:
    """``socks5://user:secret@host:1080`` → ``socks5://user:***@host:1080``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class BotApiSession(AiohttpSession):
    """aiogram's session, keeping each ``Response[T]`` model it validated with alive.

    aiogram parametrizes ``Response[method.__returning__]`` on every answer; pydantic keeps
    parametrized generic models in a *weak* cache, and these classes live in reference cycles,
    so each garbage collection drops them and the next answer rebuilds the model (its whole
    core schema: 5-30 ms of CPU on the event loop for ``Response[list[Update]]`` or
    ``Response[Message]``, several times per reply). A strong reference per return type, held
    by this session, keeps pydantic's cache hit; there are a few dozen return types at most.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._response_types: dict[Any, type[Response[Any]]] = {}

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


class _HttpsProxySession(BotApiSession):
    """An aiogram session whose requests go through an ``https://`` proxy (aiohttp native)."""

    def __init__(self, proxy_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._https_proxy = proxy_url

    async def create_session(self) -> aiohttp.ClientSession:
        if self._should_reset_connector:
            await self.close()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=self._connector_type(**self._connector_init),
                proxy=self._https_proxy,
            )
            self._should_reset_connector = False
        return self._session


def api_server(settings: Settings) -> TelegramAPIServer:
    """Telegram's servers, or a local telegram-bot-api server.

    A server started with ``--local`` answers ``getFile`` with an absolute path on its own disk
    (``TELEGRAM_API_SERVER_DIR``); the bot then reads the file from that directory as it is
    mounted here (``TELEGRAM_API_FILES_DIR``) instead of downloading it.
    """
    if not settings.telegram_api_base:
        return PRODUCTION
    if not settings.telegram_api_local:
        return TelegramAPIServer.from_base(settings.telegram_api_base)
    wrapper = (
        SimpleFilesPathWrapper(
            server_path=Path(settings.telegram_api_server_dir),
            local_path=settings.telegram_api_files_dir,
        )
        if settings.telegram_api_files_dir is not None
        else BareFilesPathWrapper()
    )
    return TelegramAPIServer.from_base(
        settings.telegram_api_base, is_local=True, wrap_local_file=wrapper
    )


class PlainHttpSession(BotApiSession):
    """The session for a local Bot API server over plain HTTP: closing it need not wait the
    quarter second aiogram gives TLS connections to shut down."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_session(settings: Settings) -> AiohttpSession:
    """The Bot API session: the configured server, through the configured proxy."""
    api = api_server(settings)
    if settings.telegram_proxy is None:
        plain = (settings.telegram_api_base or "").startswith("http://")
        return PlainHttpSession(api=api) if plain else BotApiSession(api=api)
    proxy = settings.telegram_proxy.get_secret_value().strip()
    if proxy.startswith("https://"):
        return _HttpsProxySession(proxy, api=api)
    return BotApiSession(api=api, proxy=proxy)


def make_bot(settings: Settings) -> Bot:
    return Bot(
        settings.require_token(),
        session=make_session(settings),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def describe_route(settings: Settings) -> str:
    """Where Bot API requests go, for messages: the server and the proxy (redacted)."""
    route = settings.telegram_api_base or DEFAULT_API
    if settings.telegram_proxy is not None:
        route += f"，经代理 {redact_url(settings.telegram_proxy.get_secret_value())}"
    return route


@dataclass
class ApiReachability:
    """When the Bot API last answered (for /readyz); fed by the probe and the update source."""

    last_ok: float | None = None

    def ok(self) -> None:
        self.last_ok = asyncio.get_running_loop().time()

    def within(self, seconds: float) -> bool:
        if self.last_ok is None:
            return False
        return asyncio.get_running_loop().time() - self.last_ok <= seconds


#: Failures that mean "cannot reach the Bot API right now": retried with backoff at start-up.
#: A proxy that refuses (ProxyError, e.g. wrong credentials) is named in the same line.
UNREACHABLE = (
    ProxyConnectionError,
    ProxyTimeoutError,
    ProxyError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


async def probe_until_reachable(
    bot: Bot,
    settings: Settings,
    *,
    stopping: Callable[[float], Awaitable[bool]],
    first_delay: float = 1.0,
) -> User | None:
    """``getMe`` until it answers; a rejected token stops start-up, an unreachable API waits.

    ``stopping(delay)`` waits up to ``delay`` seconds and says whether the process is being
    stopped meanwhile; then the probe gives up and returns ``None``.
    """
    delay = first_delay
    while True:
        try:
            return await bot.get_me(request_timeout=15)
        except TelegramUnauthorizedError:
            raise StartupError(
                "Telegram 拒绝了机器人令牌（401 Unauthorized）：请在 @BotFather 核对或重新生成"
                f"令牌，写入 BOT_TOKEN（当前 Bot API：{describe_route(settings)}）。",
                exit_code=2,
            ) from None
        except UNREACHABLE as exc:
            logger.warning(
                "无法连接 Telegram Bot API（{}）：{}；{:.0f} 秒后重试。",
                describe_route(settings),
                type(exc).__name__,
                delay,
            )
        except (ClientDecodeError, TelegramAPIError) as exc:
            logger.opt(exception=exc).debug("unexpected Bot API answer to getMe")
            raise StartupError(
                f"Bot API（{describe_route(settings)}）的应答无法识别（{type(exc).__name__}）："
                "请检查 TELEGRAM_API_BASE 是否指向 Telegram 或本地 telegram-bot-api 服务器。",
                exit_code=1,
            ) from None
        if await stopping(delay):
            return None
        delay = min(delay * 2, settings.startup_retry_max_seconds)
