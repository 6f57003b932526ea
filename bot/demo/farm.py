"""The demo's feed farm: RSS feeds on loopback whose posts follow the demo clock.

Each feed has a profile: how often it posts and when it stopped. Items are a pure function of the
clock (everything published up to ``now``, newest first), so when the clock runs fast a lively
account keeps posting and a quiet one drifts from 更新预警 to 僵尸号 on its own. A broken feed
answers 500; the veto feed carries one post with gambling spam; the article links point back
into the farm, so the dead-link check stays local too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

TOPICS = (
    "召开常务会议研究部署民生实事",
    "开展安全生产大检查",
    "发布秋季招生入学政策解读",
    "举办政务公开日活动",
    "公布重点项目建设进展",
    "组织防汛应急演练",
    "推进“一网通办”便民服务",
    "开展垃圾分类宣传进社区",
    "发布养老服务补贴申领指南",
    "召开优化营商环境座谈会",
    "公示年度民生项目清单",
    "开展义务植树志愿服务",
)
VETO_BODY = (
    "<p>本周便民服务时间调整如下。</p>"
    '<p style="display:none">澳门新葡京在线赌场 真人百家乐 注册即送彩金 '
    '<a href="http://127.0.0.1/casino">立即下注</a></p>'
)


@dataclass(frozen=True, slots=True)
class FeedProfile:
    """One farm feed: posts every ``every`` from ``since`` until ``until`` (None: still posting)."""

    name: str
    title: str
    since: datetime
    every: timedelta
    until: datetime | None = None
    broken: bool = False
    veto_at: datetime | None = None  # one post at this time carries gambling spam

    def items(self, now: datetime) -> list[tuple[str, datetime, str]]:
        """(title, published, body) of every post up to ``now``, newest first (at most 200)."""
        found: list[tuple[str, datetime, str]] = []
        # a stopped feed's last post is exactly ``until``; a live one counts on from ``since``
        first = self.since
        if self.until is not None:
            first = self.until - self.every * ((self.until - self.since) // self.every)
        end = min(now, self.until) if self.until is not None else now
        when, number = first, 0
        while when <= end:
            topic = TOPICS[(number + len(self.name)) % len(TOPICS)]
            found.append((f"{self.title}{topic}（{number + 1}）", when, f"<p>{topic}。</p>"))
            number += 1
            when += self.every
        if self.veto_at is not None and self.veto_at <= now:
            found.append((f"{self.title}便民服务时间调整", self.veto_at, VETO_BODY))
        found.sort(key=lambda item: item[1], reverse=True)
        return found[:200]


class FeedFarm:
    """The feeds, served by :meth:`routes` under ``/farm/``."""

    def __init__(self, *, now: Callable[[], datetime], base: str) -> None:
        self.now = now
        self.base = base.rstrip("/")
        self.profiles: dict[str, FeedProfile] = {}

    def add(self, profile: FeedProfile) -> str:
        self.profiles[profile.name] = profile
        return self.url(profile.name)

    def url(self, name: str) -> str:
        return f"{self.base}/farm/{name}.xml"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/farm/{name}.xml", self._feed)
        app.router.add_get("/farm/articles/{name}/{number}", self._article)

    async def _feed(self, request: web.Request) -> web.Response:
        profile = self.profiles.get(request.match_info["name"])
        if profile is None:
            return web.Response(status=404, text="no such feed")
        if profile.broken:
            return web.Response(status=500, text="<html><body>500 Internal Server Error</body>")
        body = self.render(profile)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"}
        )

    async def _article(self, request: web.Request) -> web.Response:
        return web.Response(text="<html><body>政务信息正文</body></html>", content_type="text/html")

    def render(self, profile: FeedProfile) -> bytes:
        items = []
        for title, published, body in profile.items(self.now()):
            key = f"{profile.name}-{int(published.timestamp())}"
            link = f"{self.base}/farm/articles/{profile.name}/{key}"
            items.append(
                f"<item><title>{escape(title)}</title><link>{link}</link>"
                f'<guid isPermaLink="false">{key}</guid>'
                f"<pubDate>{format_datetime(published)}</pubDate>"
                f"<description>{escape(body)}</description></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(profile.title)}</title><link>{self.base}/</link>"
            f"<description>演示订阅源</description>{''.join(items)}</channel></rss>"
        ).encode()
