"""The bot's HTTP side: ``/healthz``, ``/readyz``, ``/metrics`` and, in webhook mode, the webhook.

One aiohttp application: in webhook mode it listens on ``WEBHOOK_LISTEN`` (behind nginx), in
polling mode on ``METRICS_PORT`` when that is set. Further routes (e.g. a replica's status) are
added with ``app.router`` before :class:`WebServer` starts it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import ProcessMetrics

#: Each readiness check answers True (ready) or False; names appear in /readyz.
ReadinessChecks = Callable[[], Awaitable[dict[str, bool]]]


def build_web_app(
    *,
    readiness: ReadinessChecks,
    metrics: ProcessMetrics,
    refresh_metrics: Callable[[], Awaitable[None]],
    max_body_bytes: int,
) -> web.Application:
    app = web.Application(client_max_size=max_body_bytes)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        checks = await readiness()
        ready = all(checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def scrape(_request: web.Request) -> web.Response:
        await refresh_metrics()
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", scrape)
    return app


@dataclass
class WebServer:
    """Runs an application on host:port until stopped."""

    app: web.Application
    host: str
    port: int
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests ask for any free port
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
