"""How posts are stored: the body formats (old ones stay readable) and the compact identity key."""

from __future__ import annotations

import hashlib
import importlib.util
import zlib
from datetime import timedelta
from importlib import resources

import pytest
from sqlmodel import select

from models import posts
from models.postbody import UnknownBodyFormat, compress_body, expand_body
from models.posts import NewPost, Post, stored_identity
from tests.models.test_findings_pii import _account

TEXTS = [
    "会议研究了民生实事项目。\n详见附件。",
    "Plain ASCII text, and 全角标点：“引号”，以及 emoji 🎉 和生僻字 𠀀𪚥。",
    "".join(chr(c) for c in range(0x20, 0xD7FF, 97)),  # across the BMP, no surrogates
    "为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境。" * 40,
]


@pytest.mark.parametrize("text", TEXTS)
def test_a_body_reads_back_exactly(text: str) -> None:
    body = compress_body(text)
    assert body is not None and body[0] == 0x01
    assert expand_body(body) == text
    assert compress_body(text) == body  # the primed compressor is copied, never used up


def test_the_current_format_is_smaller_than_zlib_of_utf8_on_government_text() -> None:
    text = (
        "为深入贯彻落实党中央、国务院决策部署，市政府办公室近日印发实施意见，明确了12项重点任务。"
    )
    body = compress_body(text)
    assert body is not None and len(body) < 0.8 * len(zlib.compress(text.encode(), 6))


def test_bodies_written_before_format_1_still_read() -> None:
    text = "旧格式：zlib 压缩的 UTF-8 正文。"
    assert expand_body(zlib.compress(text.encode(), 6)) == text
    assert expand_body(zlib.compress(text.encode(), 9)) == text


def test_empty_and_unknown_bodies() -> None:
    assert compress_body("") is None
    assert expand_body(None) == "" and expand_body(b"") == ""
    with pytest.raises(UnknownBodyFormat):
        expand_body(b"\x02abc")


def test_the_shipped_dictionary_never_changes() -> None:
    # every body of format 1 needs exactly these bytes; a new dictionary is a new format
    data = resources.files("models").joinpath("data/postbody-1.zdict").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "dbbd8201f663ec00031ad968bd1ae0edc904d7912afe1f146a70fc0a46cad909"
    )


def test_stored_identity_keeps_short_keys_and_prefixes() -> None:
    assert stored_identity("guid-17") == "guid-17"
    assert stored_identity("h12:2026-12-01") == "h12:2026-12-01"
    url = "https://www.example.gov.cn/zwgk/202612/t20261201_1234567.html"
    key = stored_identity(url)
    assert key.startswith("#") and len(key) == 17 and key == stored_identity(url)
    assert stored_identity(url + "?x") != key
    assert stored_identity(f"c12:{url}").startswith("c12:#")
    assert stored_identity("sha1:" + "0" * 40).startswith("sha1:#")


def test_the_migration_keeps_a_frozen_copy_of_stored_identity() -> None:
    path = resources.files("bot").joinpath("migrations/versions/0018_post_compact.py")
    spec = importlib.util.spec_from_file_location("m0018", str(path))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    samples = ["g1", "h3:2026-01-01", "c7:https://a.gov.cn/x/" + "y" * 40, "https://" + "z" * 80]
    assert [module.stored_identity(s) for s in samples] == [stored_identity(s) for s in samples]


@pytest.mark.both_backends
async def test_long_identities_are_stored_once_and_looked_up_by_the_feeds_own(  # type: ignore[no-untyped-def]
    sessionmaker, clock
) -> None:
    now = clock.now()
    account = await _account(sessionmaker, now)
    link = "https://www.example.gov.cn/zwgk/202612/t20261201_7654321.html"
    new = [
        NewPost(
            identity=identity,
            title="区政府召开常务会议",
            link=link,
            author=None,
            published_at=now - timedelta(hours=1),
            dated=True,
            body_text="会议研究了民生实事项目。",
            counts_as_activity=True,
        )
        for identity in (link, "short-guid")
    ]
    async with sessionmaker() as session:
        ids = await posts.insert_many(session, posts={account: new}, now=now)
        await session.commit()
    assert set(ids) == {(account, link), (account, "short-guid")}
    async with sessionmaker() as session:
        known = await posts.known_pairs(
            session, pairs=[(account, link), (account, "short-guid"), (account, link + "2")]
        )
        again = await posts.insert_many(session, posts={account: new}, now=now)
        stored = (await session.exec(select(Post).where(Post.id == ids[account, link]))).one()
    assert known == {(account, link), (account, "short-guid")}
    assert again == {}
    assert stored.identity == stored_identity(link) and stored.link == link
    assert stored.body_text == "会议研究了民生实事项目。"
