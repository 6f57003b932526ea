"""The site farm over real HTTP: list pages with conditional requests, items published while it
runs, the flapping home page, and generated variety (what the website tests and bench use)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime

import aiohttp
import pytest

from feeds.listpage import ExtractMethod, extract_items, looks_like_portal
from tests.fakes.sites import Column, HomeMode, Layout, SiteFarm

TODAY = date(2026, 12, 1)


@pytest.fixture
async def farm() -> AsyncIterator[SiteFarm]:
    async with SiteFarm(today=TODAY, slow_seconds=2.0) as running:
        news = Column("xwdt", "新闻动态", layout=Layout.HANWEB_TABLE, encoding="gbk")
        news.declare = "header"
        running.add_site("qzf", "某某区人民政府", [news, Column("tzgg", "通知公告")])
        yield running


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    # a fresh connection per request: aiohttp retries a GET once on a reused connection that
    # was reset, which would hide the RESET mode and consume the next scheduled answer
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        yield session


async def test_column_updates_and_conditional_requests(
    farm: SiteFarm, client: aiohttp.ClientSession
) -> None:
    url = farm.column_url("qzf", "xwdt")
    async with client.get(url) as response:
        body, etag = await response.read(), response.headers["ETag"]
        assert response.headers["Content-Type"] == "text/html; charset=gbk"
        modified = response.headers["Last-Modified"]
    empty = extract_items(body, url=url, content_type="text/html; charset=gbk", today=TODAY)
    assert empty.method is ExtractMethod.NONE
    async with client.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 304
    async with client.get(url, headers={"If-Modified-Since": modified}) as response:
        assert response.status == 304

    item = farm.publish("qzf", "xwdt", "区政府召开第一次常务会议", datetime(2026, 11, 30, 9))
    async with client.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 200
        content_type = response.headers["Content-Type"]
        page = extract_items(await response.read(), url=url, content_type=content_type, today=TODAY)
    assert [(i.title, i.published) for i in page.items] == [(item.title, date(2026, 11, 30))]
    async with client.get(page.items[0].link) as response:
        assert response.status == 200
        assert item.title in await response.text()


async def test_home_page_flaps_on_schedule(farm: SiteFarm, client: aiohttp.ClientSession) -> None:
    farm.set_home_schedule("qzf", [HomeMode.ERROR, HomeMode.RESET, HomeMode.SLOW, HomeMode.OK])
    url = farm.home_url("qzf")
    for day in (28, 29, 30):
        farm.publish("qzf", "xwdt", f"区政府召开第{day}次常务会议", datetime(2026, 11, day, 9))
    async with client.get(url) as response:
        assert response.status == 500
    with pytest.raises(aiohttp.ClientError):
        async with client.get(url) as response:
            await response.read()
    with pytest.raises(asyncio.TimeoutError):
        async with client.get(url, timeout=aiohttp.ClientTimeout(total=0.2)) as response:
            await response.read()
    for _ in range(2):
        async with client.get(url) as response:
            assert response.status == 200
            assert not looks_like_portal(await response.read(), url=url)
    assert farm.sites["qzf"].home_requests == 5


def test_generated_farm_is_varied_and_reproducible() -> None:
    first, second = SiteFarm(today=TODAY), SiteFarm(today=TODAY)
    pairs = first.generate(sites=20, columns=10, seed=7)
    assert pairs == second.generate(sites=20, columns=10, seed=7)
    assert len(pairs) == 200
    columns = [first.sites[s].columns[c] for s, c in pairs]
    assert {c.layout for c in columns} == set(Layout)
    assert {c.encoding for c in columns} == {"utf-8", "gbk", "gb18030"}
    assert any(not c.items for c in columns)
    assert any(first.sites[s].portal for s in first.sites)
    assert [c.title for c in first.sites[pairs[0][0]].columns[pairs[0][1]].items] == [
        c.title for c in second.sites[pairs[0][0]].columns[pairs[0][1]].items
    ]


async def test_sites_spread_over_loopback_hosts(client: aiohttp.ClientSession) -> None:
    async with SiteFarm(today=TODAY, hosts=3) as farm:
        pairs = farm.generate(sites=6, columns=2, seed=3)
        hosts = {
            farm.column_url(site, column).split("/")[2].split(":")[0] for site, column in pairs
        }
        assert hosts == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
        site, column = next(
            (s, c) for s, c in reversed(pairs) if len(farm.sites[s].columns[c].items) > 1
        )
        async with client.get(farm.column_url(site, column)) as response:
            assert response.status == 200
            body = await response.read()
            content_type = response.headers["Content-Type"]
        page = extract_items(body, url=farm.column_url(site, column), content_type=content_type,
                             today=TODAY)  # fmt: skip
        expected = farm.expected(site, column)
        assert expected
        assert [(i.link, i.published) for i in page.items] == [
            (e.link, e.published) for e in expected
        ]
        async with client.get(farm.home_url(site)) as response:
            etag = response.headers["ETag"]
        async with client.get(farm.home_url(site), headers={"If-None-Match": etag}) as response:
            assert response.status == 304
