"""Feeds derived from platform + platform id on the office's RSSHub."""

from __future__ import annotations

from governance.feedroutes import derive, is_unreliable_route, routes

BASE = "https://rsshub.example.gov.cn"


def test_weibo_uid_and_home_page_derive_the_user_timeline() -> None:
    for ref in ("1234567890", "https://weibo.com/u/1234567890", "https://m.weibo.cn/u/1234567890"):
        derived = derive("weibo", ref, base=BASE)
        assert derived is not None and derived.url == f"{BASE}/weibo/user/1234567890", ref


def test_access_key_is_appended_and_base_slash_ignored() -> None:
    derived = derive("bilibili", "https://space.bilibili.com/2267573", base=BASE + "/", key="k&1")
    assert derived is not None
    assert derived.url == f"{BASE}/bilibili/user/video/2267573?key=k%261"


def test_no_base_no_route_or_a_wrong_id_derive_nothing() -> None:
    assert derive("weibo", "1234567890", base=None) is None
    assert derive("wechat", "jiaoyu_fabu", base=BASE) is None
    assert derive("weibo", "not-a-uid", base=BASE) is None


def test_every_route_in_the_table_has_a_note_and_an_id_rule() -> None:
    assert routes(), "the table loads"
    for route in routes().values():
        assert route.route.startswith("/") and "{id}" in route.route and route.note


def test_routes_known_to_answer_empty_are_flagged() -> None:
    assert is_unreliable_route(f"{BASE}/weibo/user/1?key=x", base=BASE)
    assert not is_unreliable_route(f"{BASE}/bilibili/user/video/1", base=BASE)
    assert not is_unreliable_route("https://other.example/weibo/user/1", base=BASE)
