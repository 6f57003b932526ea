"""A local farm of government websites for tests: real HTTP on loopback, a random port.

Each site has a home page and columns (栏目) whose list pages come in the layouts of the common
Chinese government CMSes (:mod:`tests.fakes.sitepages`), in UTF-8 or GBK/GB18030 declared in
``<meta>``, the HTTP header, both or neither; paginated lists, empty columns (暂无信息), a
portal-only home page. The home page can flap on a schedule the test sets (HTTP 500, a reset
connection, or answering slower than the probe's limit). List pages answer conditional requests
(ETag, Last-Modified). Tests add items to a column while the farm runs, so a time-moving test
can make a column update; :meth:`SiteFarm.expected` gives the truth a list page shows.

    async with SiteFarm(today=date(2026, 12, 1)) as farm:
        farm.add_site("qzf", "某某区人民政府", [Column("xwdt", "新闻动态")])
        farm.publish("qzf", "xwdt", "区政府召开常务会议", when)
        url = farm.column_url("qzf", "xwdt")
        farm.set_home_schedule("qzf", [HomeMode.ERROR, HomeMode.SLOW])

:meth:`SiteFarm.generate` builds many varied sites from a seed (e.g. 200 columns for a bench).
``SiteFarm(hosts=4)`` spreads the sites over 127.0.0.1 … 127.0.0.4 (one listening socket each),
so per-host politeness sees several hosts, as it would with real sites.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from enum import StrEnum
from types import TracebackType

from aiohttp import web

from tests.fakes.sitepages import (
    DATED_LINKS,
    Column,
    DateStyle,
    ExpectedItem,
    Layout,
    LinkStyle,
    SiteItem,
    list_path,
    page_count,
    render_article,
    render_home,
    render_list,
)

__all__ = [
    "Column",
    "DateStyle",
    "ExpectedItem",
    "FakeSite",
    "HomeMode",
    "Layout",
    "LinkStyle",
    "SiteFarm",
    "SiteItem",
]

_BEIJING_OFFSET = timedelta(hours=8)
_LIST = re.compile(r"^/([\w-]+)/([\w-]+)/index(?:_(\d+))?\.html$")
_ARTICLE_ID = re.compile(r"(?:_|/)(\d+)\.html$")


class HomeMode(StrEnum):
    OK = "ok"
    ERROR = "error"  # HTTP 500
    RESET = "reset"  # the connection closed in the middle of the answer
    SLOW = "slow"  # answers after ``SiteFarm.slow_seconds``


@dataclass(slots=True)
class FakeSite:
    slug: str
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    portal: bool = False
    host: int = 0  # index into SiteFarm.addresses
    schedule: deque[HomeMode] = field(default_factory=deque)
    default_mode: HomeMode = HomeMode.OK
    home_requests: int = 0


ORGS = ("区政府", "区市场监管局", "区教育局", "区卫健委", "区人社局", "生态环境分局", "区住建局",
        "区应急管理局", "城东街道", "区委宣传部", "区农业农村局", "区民政局")  # fmt: skip
ACTS = ("召开", "开展", "部署", "举行", "推进", "组织", "启动", "督查")
TOPICS = ("安全生产专项检查", "常务会议", "民生实事项目推进会", "防汛防台工作", "营商环境优化行动",
          "消费者权益保护宣传", "城乡居民医保参保工作", "就业创业培训", "垃圾分类宣传周",
          "冬季森林防火工作", "11月30日停电检修安排", "2026年第三季度重点工作")  # fmt: skip
KINDS = (("xwdt", "新闻动态", "动态要闻"), ("gzdt", "工作动态", "动态要闻"),
         ("tzgg", "通知公告", "通知公告"), ("zcwj", "政策文件", "政策文件"),
         ("rsxx", "人事信息", "人事规划"), ("bmdt", "部门动态", "动态要闻"),
         ("xzdt", "乡镇动态", "动态要闻"), ("ghjh", "规划计划", "人事规划"))  # fmt: skip


def make_title(rng: random.Random, column_class: str) -> str:
    org, act, topic = rng.choice(ORGS), rng.choice(ACTS), rng.choice(TOPICS)
    if column_class == "通知公告":
        return f"{org}关于做好{topic}的通知"
    if column_class == "政策文件":
        return f"{org}关于印发《{topic}实施方案》的通知"
    return f"{org}{act}{topic}"


class SiteFarm:
    """Async context manager around an aiohttp app bound to loopback addresses, free ports."""

    def __init__(
        self, *, today: date | None = None, slow_seconds: float = 20.0, hosts: int = 1
    ) -> None:
        if not 1 <= hosts <= 250:
            raise ValueError("hosts must be between 1 and 250")
        self.addresses = [f"127.0.0.{n}" for n in range(1, hosts + 1)]
        self.ports = [0] * hosts
        self.today = today or (datetime.now(UTC) + _BEIJING_OFFSET).date()
        self.slow_seconds = slow_seconds
        """How long a ``SLOW`` home page takes (above the probe's 15 s limit by default)."""
        self.sites: dict[str, FakeSite] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._next_id = 1000
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> SiteFarm:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        for index, address in enumerate(self.addresses):
            site = web.TCPSite(self._runner, address, 0)
            await site.start()
            server = site._server  # aiohttp keeps the bound socket only here
            assert server is not None and server.sockets  # type: ignore[attr-defined]
            self.ports[index] = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.port = self.ports[0]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ building sites

    @property
    def base_url(self) -> str:
        """The first host's origin (every site when ``hosts=1``)."""
        return f"http://127.0.0.1:{self.port}"

    def site_base(self, site: str) -> str:
        """The origin a site is served from."""
        index = self.sites[site].host
        return f"http://{self.addresses[index]}:{self.ports[index]}"

    def add_site(
        self, slug: str, name: str, columns: list[Column], *, portal: bool = False
    ) -> FakeSite:
        host = len(self.sites) % len(self.addresses)
        site = FakeSite(slug, name, {c.slug: c for c in columns}, portal=portal, host=host)
        self.sites[slug] = site
        for column in columns:
            for item in column.items:
                if not item.id:
                    item.id = self._new_id()
            column.items.sort(key=lambda i: i.published, reverse=True)
        return site

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def publish(self, site: str, column: str, title: str, published: datetime) -> SiteItem:
        """A new item at its place (newest first) in a column: its next fetch shows it."""
        item = SiteItem(title, published, self._new_id(), number=f"政办发〔{published.year}〕1号")
        self.add_items(site, column, item)
        return item

    def add_items(self, site: str, column: str, *items: SiteItem) -> None:
        target = self.sites[site].columns[column]
        for item in items:
            if not item.id:
                item.id = self._new_id()
        target.items.extend(items)
        target.items.sort(key=lambda i: i.published, reverse=True)

    def set_home_schedule(
        self, site: str, modes: list[HomeMode], *, then: HomeMode = HomeMode.OK
    ) -> None:
        """The next home-page requests answer as ``modes`` say, one each, then ``then``."""
        self.sites[site].schedule = deque(modes)
        self.sites[site].default_mode = then

    def generate(
        self, *, sites: int, columns: int = 10, seed: int = 1, empty_share: float = 0.05
    ) -> list[tuple[str, str]]:
        """``sites`` varied sites of ``columns`` columns each; returns ``(site, column)``."""
        rng = random.Random(seed)
        made = []
        for n in range(sites):
            slug = f"gen{seed}s{n}"
            cols = [self._random_column(rng, k, empty_share) for k in range(columns)]
            self.add_site(slug, f"第{n + 1}测试区人民政府", cols, portal=rng.random() < 0.1)
            made.extend((slug, c.slug) for c in cols)
        return made

    def _random_column(self, rng: random.Random, index: int, empty_share: float) -> Column:
        slug, name, column_class = KINDS[index % len(KINDS)]
        layout = rng.choice(list(Layout))
        if column_class == "政策文件" and rng.random() < 0.5:
            layout = Layout.POLICY_TABLE
        styles = [s for s in DateStyle if s is not DateStyle.NONE]
        date_style = DateStyle.NONE if layout is Layout.LINK_ONLY else rng.choice(styles)
        links = list(DATED_LINKS) if layout is Layout.LINK_ONLY else list(LinkStyle)
        encoding = rng.choice(("utf-8", "utf-8", "gbk", "gb18030"))
        column = Column(
            slug=f"{slug}{index // len(KINDS) or ''}",
            name=name,
            column_class=column_class,
            layout=layout,
            date_style=date_style,
            link_style=rng.choice(links),
            encoding=encoding,
            declare=rng.choice(("meta", "header", "both", "none")),
            page_size=rng.choice((10, 15, 20)),
            sidebar=rng.random() < 0.3,
            truncate=rng.random() < 0.3,
            noisy=rng.random() < 0.3,
        )
        if rng.random() >= empty_share:
            count = rng.choice((1, 2, 3, 8, 15, 25, 40))
            stale = rng.random() < 0.2  # not updated for months
            newest = self.today - timedelta(
                days=rng.randint(200, 300) if stale else rng.randint(0, 20)
            )
            for _ in range(count):
                published = datetime.combine(newest, time(rng.randint(8, 18), rng.randint(0, 59)))
                column.items.append(
                    SiteItem(
                        make_title(rng, column_class),
                        published,
                        self._new_id(),
                        number=f"区政办发〔{published.year}〕{rng.randint(1, 99)}号",
                    )
                )
                newest -= timedelta(days=rng.choice((0, 1, 1, 2, 3, 5)))
                if (self.today - newest).days > 330:
                    break  # year-less dates stay within a year
        return column

    # ------------------------------------------------------------------ what tests read

    def home_url(self, site: str) -> str:
        return f"{self.site_base(site)}/{site}/"

    def column_url(self, site: str, column: str, page: int = 0) -> str:
        return self.site_base(site) + list_path(site, self.sites[site].columns[column], page)

    def render_column(self, site: str, column: str, page: int = 0) -> tuple[bytes, str, str]:
        """``(body, content type, URL)`` of a list page, rendered without HTTP (benches)."""
        body, content_type, _ = self._list_page(site, column, page)
        return body, content_type, self.column_url(site, column, page)

    def expected(self, site: str, column: str, page: int = 0) -> list[ExpectedItem]:
        """The items list page ``page`` shows, links absolute."""
        return self._list_page(site, column, page)[2]

    def _list_page(
        self, site_slug: str, column_slug: str, page: int
    ) -> tuple[bytes, str, list[ExpectedItem]]:
        site = self.sites[site_slug]
        column = site.columns[column_slug]
        page_url = self.site_base(site_slug) + list_path(site_slug, column, page)
        html, expected = render_list(
            site_slug, site.name, list(site.columns.values()), column, page, page_url
        )
        body = html.encode(column.encoding, errors="xmlcharrefreplace")
        content_type = "text/html"
        if column.declare in ("header", "both"):
            content_type += f"; charset={'gbk' if column.encoding == 'gbk' else column.encoding}"
        return body, content_type, expected

    # ------------------------------------------------------------------ serving

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append((request.method, path, dict(request.headers)))
        parts = path.strip("/").split("/")
        site = self.sites.get(parts[0]) if parts and parts[0] else None
        if site is None:
            raise web.HTTPNotFound()
        if path in (f"/{site.slug}/", f"/{site.slug}", f"/{site.slug}/index.html"):
            return await self._home(request, site)
        match = _LIST.match(path)
        if match and match[2] in site.columns:
            column = site.columns[match[2]]
            page = int(match[3] or 0)
            if page >= page_count(column):
                raise web.HTTPNotFound()
            body, content_type, _ = self._list_page(site.slug, column.slug, page)
            newest = column.items[0].published if column.items else datetime(2020, 1, 1)
            return _conditional(request, body, content_type, newest - _BEIJING_OFFSET)
        found = _ARTICLE_ID.search(path)
        if found:
            item_id = int(found[1])
            for column in site.columns.values():
                for item in column.items:
                    if item.id == item_id:
                        return web.Response(
                            text=render_article(site.name, item), content_type="text/html"
                        )
        raise web.HTTPNotFound()

    async def _home(self, request: web.Request, site: FakeSite) -> web.StreamResponse:
        site.home_requests += 1
        mode = site.schedule.popleft() if site.schedule else site.default_mode
        if mode is HomeMode.ERROR:
            return web.Response(status=500, text="<html><body>500 Internal Server Error</body>")
        if mode is HomeMode.RESET:
            # cut mid-answer: a reset before any byte would be retried by aiohttp's client
            response = web.StreamResponse(headers={"Content-Length": "100000"})
            response.content_type = "text/html"
            await response.prepare(request)
            await response.write(b"<html><head><title>")
            if request.transport is not None:
                request.transport.abort()
            return response
        if mode is HomeMode.SLOW:
            await asyncio.sleep(self.slow_seconds)
        html = render_home(site.slug, site.name, list(site.columns.values()), portal=site.portal)
        newest = max(
            (c.items[0].published for c in site.columns.values() if c.items),
            default=datetime(2020, 1, 1),
        )
        return _conditional(
            request, html.encode(), "text/html; charset=utf-8", newest - _BEIJING_OFFSET
        )


def _conditional(
    request: web.Request, body: bytes, content_type: str, modified: datetime
) -> web.Response:
    etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
    last_modified = modified.replace(tzinfo=UTC, microsecond=0)
    headers = {
        "Content-Type": content_type,
        "ETag": etag,
        "Last-Modified": format_datetime(last_modified, usegmt=True),
    }
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if etag in [t.strip() for t in if_none_match.split(",")] or if_none_match == "*":
            return web.Response(status=304, headers={"ETag": etag})
    elif since := request.headers.get("If-Modified-Since"):
        try:
            if last_modified <= parsedate_to_datetime(since):
                return web.Response(status=304, headers={"ETag": etag})
        except (TypeError, ValueError):
            pass
    return web.Response(body=body, headers=headers)
