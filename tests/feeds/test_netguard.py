"""The SSRF guard's decisions, tested without opening a single connection."""

from __future__ import annotations

import ipaddress

import pytest

from feeds.netguard import (
    ForbiddenAddressError,
    GuardedResolver,
    GuardPolicy,
    URLRefused,
    check_url,
    is_forbidden_address,
)
from tests.fakes.dns import FakeResolver

FORBIDDEN = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.1.1": "link-local",
    "169.254.169.254": "metadata",
    "100.100.100.200": "metadata",
    "100.64.0.1": "CGNAT",
    "100.127.255.254": "CGNAT",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "198.18.0.1": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "fd00:ec2::254": "metadata",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "IPv4-mapped",
    "::ffff:8.8.8.8": "IPv4-mapped",
    "::127.0.0.1": "IPv4-compatible",
    "64:ff9b::a00:1": "NAT64-mapped private",
    "64:ff9b::7f00:1": "NAT64-mapped loopback",
    "64:ff9b::a9fe:a9fe": "metadata",
    "64:ff9b::a9fe:101": "NAT64-mapped link-local",
    "64:ff9b:1::808:808": "NAT64 local-use",
    "2002:a00:1::1": "6to4 embedding private",
    "2002:7f00:1::1": "6to4 embedding loopback",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "2001:db8::1": "private",
}

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "114.114.114.114",
    "2400:3200::1",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "reason"), FORBIDDEN.items())
def test_forbidden_addresses(address: str, reason: str) -> None:
    found = is_forbidden_address(ipaddress.ip_address(address))
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_pass(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is None


def test_allow_private_lifts_private_but_not_metadata() -> None:
    policy = GuardPolicy(allow_private=True)
    assert policy.address_refusal(ipaddress.ip_address("10.0.0.8")) is None
    assert policy.address_refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.address_refusal(ipaddress.ip_address("169.254.169.254")) is not None
    assert policy.address_refusal(ipaddress.ip_address("fd00:ec2::254")) is not None
    assert policy.address_refusal(ipaddress.ip_address("0.0.0.0")) is not None


def test_allow_list_by_host_ip_and_cidr() -> None:
    policy = GuardPolicy(allowed_hosts=frozenset({"RSSHub.Intra.", "10.20.0.0/16", "192.168.9.9"}))
    assert policy.address_refusal(ipaddress.ip_address("10.1.1.1"), host="rsshub.intra") is None
    assert policy.address_refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert policy.address_refusal(ipaddress.ip_address("192.168.9.9")) is None
    assert policy.address_refusal(ipaddress.ip_address("10.21.0.1")) == "private"
    assert policy.address_refusal(ipaddress.ip_address("10.1.1.1"), host="other.intra")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("ftp://example.com/feed", "bad_url"),
        ("file:///etc/passwd", "bad_url"),
        ("javascript:alert(1)", "bad_url"),
        ("http://user:pw@example.com/feed", "bad_url"),
        ("http://user@example.com/feed", "bad_url"),
        ("http:///nohost", "bad_url"),
        ("http://example.com/" + "a" * 2100, "bad_url"),
        ("http://2130706433/", "bad_url"),
        ("http://127.1/", "bad_url"),
        ("http://0x7f.0.0.1/", "bad_url"),
        ("http://127.0.0.1/", "forbidden"),
        ("http://[::1]:8080/", "forbidden"),
        ("http://[::ffff:10.0.0.1]/", "forbidden"),
        ("https://169.254.169.254/latest/meta-data/", "forbidden"),
        ("http://100.100.100.200/", "forbidden"),
    ],
)
def test_check_url_refuses(url: str, kind: str) -> None:
    with pytest.raises(URLRefused) as refused:
        check_url(url, policy=GuardPolicy())
    assert refused.value.kind == kind


def test_check_url_accepts_ordinary_urls() -> None:
    policy = GuardPolicy()
    assert check_url("https://rsshub.app/weibo/user/1", policy=policy).host == "rsshub.app"
    assert check_url("http://8.8.8.8/feed", policy=policy).port == 80
    assert check_url("http://127.0.0.1:1200/x", policy=GuardPolicy(allow_private=True))


async def test_resolver_drops_forbidden_addresses_dns_rebinding() -> None:
    inner = FakeResolver({"mixed.example": ["10.0.0.5", "93.184.216.34", "::1", "2606:2800::1"]})
    resolver = GuardedResolver(GuardPolicy(), inner=inner)
    kept = await resolver.resolve("mixed.example", 443)
    assert [r["host"] for r in kept] == ["93.184.216.34", "2606:2800::1"]
    await resolver.close()
    assert inner.closed


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.9.8.7", "64:ff9b::a00:1"])
async def test_resolver_refuses_host_with_only_forbidden_addresses(address: str) -> None:
    resolver = GuardedResolver(GuardPolicy(), inner=FakeResolver({"evil.example": [address]}))
    with pytest.raises(ForbiddenAddressError) as refused:
        await resolver.resolve("evil.example", 80)
    assert isinstance(refused.value, OSError)
    assert refused.value.host == "evil.example"


async def test_resolver_lets_allow_listed_hostname_through() -> None:
    policy = GuardPolicy(allowed_hosts=frozenset({"rsshub.intra"}))
    resolver = GuardedResolver(policy, inner=FakeResolver({"rsshub.intra": ["10.3.0.2"]}))
    assert [r["host"] for r in await resolver.resolve("rsshub.intra", 1200)] == ["10.3.0.2"]


def test_only_allowed_refuses_everything_off_the_list_before_any_lookup() -> None:
    """FEED_ALLOWED_ONLY (the demo): global addresses and other hostnames are refused too."""
    policy = GuardPolicy(allowed_hosts=frozenset({"127.0.0.1", "rsshub.intra"}), only_allowed=True)
    assert check_url("http://127.0.0.1:8765/farm/a.xml", policy=policy).port == 8765
    assert check_url("http://rsshub.intra/weibo/1", policy=policy).host == "rsshub.intra"
    for url in ("http://8.8.8.8/", "https://rsshub.app/x", "http://127.0.0.2/", "http://[::1]/"):
        with pytest.raises(URLRefused) as refused:
            check_url(url, policy=policy)
        assert refused.value.kind == "forbidden"
    assert policy.address_refusal(ipaddress.ip_address("93.184.216.34")) == "not on the allow-list"
    lifted = GuardPolicy(allow_private=True, only_allowed=True)  # allow_private lifts nothing
    assert lifted.address_refusal(ipaddress.ip_address("10.0.0.1")) == "private"
    metadata = GuardPolicy(allowed_hosts=frozenset({"169.254.169.254"}), only_allowed=True)
    assert str(metadata.address_refusal(ipaddress.ip_address("169.254.169.254"))).startswith(
        "metadata"
    )


async def test_only_allowed_resolver_drops_global_answers() -> None:
    policy = GuardPolicy(allowed_hosts=frozenset({"10.3.0.0/16"}), only_allowed=True)
    inner = FakeResolver({"mixed.example": ["10.3.0.2", "93.184.216.34"]})
    kept = await GuardedResolver(policy, inner=inner).resolve("mixed.example", 80)
    assert [r["host"] for r in kept] == ["10.3.0.2"]
