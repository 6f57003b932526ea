"""Local fake group robots (WeCom, DingTalk, Feishu) for tests: real HTTP on 127.0.0.1.

Each robot checks what its platform checks — the key or token, DingTalk's and Feishu's
signatures (and that the timestamp is within an hour of the fake's clock), the message shape and
byte limits — enforces the platform's documented rate limits on the injected clock (WeCom and
DingTalk 20 per minute, Feishu 100 per minute and 5 per second) and answers with the platform's
error codes. Tests may script failures with :meth:`FakeRobot.fail_next`.

    async with RobotServer(clock=clock) as robots:
        wecom = robots.wecom()
        url = wecom.webhook
        ...
        assert wecom.received[0]["msgtype"] == "markdown"
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from governance.clock import Clock

#: The platforms' documented limits (the product keeps one below these).
DOCUMENTED: dict[str, tuple[tuple[int, float], ...]] = {
    "wecom": ((20, 60.0),),
    "dingtalk": ((20, 60.0),),
    "feishu": ((100, 60.0), (5, 1.0)),
}
BYTE_LIMITS = {"markdown": 4096, "text": 2048}


@dataclass(slots=True)
class FakeRobot:
    kind: str
    token: str
    secret: str | None
    base: str
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    rate_limited: int = 0
    bad_signatures: int = 0
    _times: deque[float] = field(default_factory=deque)
    _scripted: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def webhook(self) -> str:
        if self.kind == "wecom":
            return f"{self.base}/cgi-bin/webhook/send?key={self.token}"
        if self.kind == "dingtalk":
            return f"{self.base}/robot/send?access_token={self.token}"
        return f"{self.base}/open-apis/bot/v2/hook/{self.token}"

    def fail_next(self, code: int, message: str = "scripted", status: int = 200) -> None:
        """Answer the next request with ``code`` (and HTTP ``status``) instead of accepting it."""
        self._scripted.append((status, code, message))


class RobotServer:
    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock
        self.robots: dict[tuple[str, str], FakeRobot] = {}
        self.base = ""
        self._runner: web.AppRunner | None = None
        self._arrived = asyncio.Condition()

    async def __aenter__(self) -> RobotServer:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/open-apis/bot/v2/hook/{token}", self._feishu)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _add(self, kind: str, secret: str | None) -> FakeRobot:
        robot = FakeRobot(kind, secrets.token_hex(16), secret, self.base)
        self.robots[(kind, robot.token)] = robot
        return robot

    def wecom(self) -> FakeRobot:
        return self._add("wecom", None)

    def dingtalk(self) -> FakeRobot:
        return self._add("dingtalk", "SEC" + secrets.token_hex(24))

    def feishu(self) -> FakeRobot:
        return self._add("feishu", secrets.token_urlsafe(16))

    async def wait_for(self, robot: FakeRobot, count: int) -> None:
        """Return once ``robot`` accepted ``count`` messages."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(robot.received) >= count)

    # -- platforms ----------------------------------------------------------------------------

    def _over_limit(self, robot: FakeRobot) -> bool:
        now = self.clock.monotonic()
        longest = max(seconds for _, seconds in DOCUMENTED[robot.kind])
        while robot._times and robot._times[0] <= now - longest:
            robot._times.popleft()
        for count, seconds in DOCUMENTED[robot.kind]:
            if sum(1 for t in robot._times if t > now - seconds) >= count:
                return True
        robot._times.append(now)
        return False

    def _fresh(self, timestamp_s: float) -> bool:
        return abs(self.clock.now().timestamp() - timestamp_s) < 3600

    async def _accept(self, robot: FakeRobot, body: dict[str, Any]) -> None:
        async with self._arrived:
            robot.received.append(body)
            self._arrived.notify_all()

    async def _wecom(self, request: web.Request) -> web.Response:
        robot = self.robots.get(("wecom", request.query.get("key", "")))
        if robot is None:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        if robot._scripted:
            status, code, message = robot._scripted.pop(0)
            return web.json_response({"errcode": code, "errmsg": message}, status=status)
        if self._over_limit(robot):
            robot.rate_limited += 1
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        body = await request.json()
        msgtype = body.get("msgtype")
        content = (body.get(msgtype) or {}).get("content", "")
        if msgtype not in BYTE_LIMITS or not content:
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if len(content.encode()) > BYTE_LIMITS[msgtype]:
            return web.json_response({"errcode": 40058, "errmsg": "content exceed max length"})
        await self._accept(robot, body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _dingtalk(self, request: web.Request) -> web.Response:
        robot = self.robots.get(("dingtalk", request.query.get("access_token", "")))
        if robot is None:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        if robot._scripted:
            status, code, message = robot._scripted.pop(0)
            return web.json_response({"errcode": code, "errmsg": message}, status=status)
        timestamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
        assert robot.secret is not None
        expected = base64.b64encode(
            hmac.new(
                robot.secret.encode(), f"{timestamp}\n{robot.secret}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        fresh = timestamp.isdigit() and self._fresh(int(timestamp) / 1000)
        if not fresh or not hmac.compare_digest(sign, expected):
            robot.bad_signatures += 1
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        if self._over_limit(robot):
            robot.rate_limited += 1
            return web.json_response(
                {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
            )
        body = await request.json()
        if body.get("msgtype") != "markdown" or not body["markdown"].get("text"):
            return web.json_response({"errcode": 40035, "errmsg": "缺少参数 markdown"})
        await self._accept(robot, body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _feishu(self, request: web.Request) -> web.Response:
        robot = self.robots.get(("feishu", request.match_info["token"]))
        if robot is None:
            return web.json_response(
                {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
            )
        if robot._scripted:
            status, code, message = robot._scripted.pop(0)
            return web.json_response({"code": code, "msg": message}, status=status)
        body = await request.json()
        assert robot.secret is not None
        timestamp = str(body.get("timestamp", ""))
        key = f"{timestamp}\n{robot.secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and self._fresh(int(timestamp))
        if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
            robot.bad_signatures += 1
            return web.json_response(
                {
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                }
            )
        if self._over_limit(robot):
            robot.rate_limited += 1
            return web.json_response({"code": 9499, "msg": "Too Many Request"})
        if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
            return web.json_response({"code": 19002, "msg": "params error"})
        await self._accept(robot, body)
        return web.json_response({"code": 0, "msg": "success", "data": {}})
