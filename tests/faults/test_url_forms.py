"""Every URL and DNS-answer form of a forbidden address is refused, decided without a connection.

With ``ALLOW_PRIVATE_FEEDS=true`` (an office's intranet RSSHub) cloud metadata, unspecified and
multicast addresses stay refused in every spelling: IPv4-mapped, IPv4-translated,
IPv4-compatible, NAT64, 6to4 and Teredo embeddings and legacy numeric hosts included. With the
switch off, every private form is refused as well.
"""

from __future__ import annotations

import ipaddress

import pytest
from aiohttp.abc import ResolveResult

from feeds.netguard import (
    ForbiddenAddressError,
    GuardPolicy,
    URLRefused,
    check_url,
    filter_resolved,
)

# 169.254.169.254 = a9fe:a9fe; Teredo stores its client inverted: ~a9fe:a9fe = 5601:5601
METADATA_HOSTS = [
    "169.254.169.254",
    "169.254.169.254.",
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[::ffff:0:a9fe:a9fe]",
    "[::169.254.169.254]",
    "[64:ff9b::169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::1]",
    "[2001:0:4136:e378:8000:63bf:5601:5601]",
    "[fd00:ec2::254]",
    "[fd00:ec2:0:0:0:0:0:254]",
    "168.63.129.16",
    "[::ffff:168.63.129.16]",
    "[64:ff9b::a83f:8110]",
    "[2002:a83f:8110::]",
    "100.100.100.200",
    "[::ffff:100.100.100.200]",
    "2852039166",
    "0xa9fea9fe",
    "0251.0376.0251.0376",
    "169.254.43518",
    "[64:ff9b:1::a9fe:a9fe]",
]
UNSPECIFIED_HOSTS = [
    "0.0.0.0",
    "0",
    "0.1.2.3",
    "[::]",
    "[::ffff:0.0.0.0]",
    "[64:ff9b::]",
    "[2002::1]",
]
MULTICAST_HOSTS = [
    "224.0.0.1",
    "239.255.255.250",
    "[ff02::1]",
    "[ff05::1:3]",
    "[::ffff:224.0.0.1]",
    "[64:ff9b::e000:1]",
    "[2002:e000:1::1]",
]
PRIVATE_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
    "10.0.0.1",
    "[::ffff:10.0.0.1]",
    "[64:ff9b::a00:1]",
    "[2002:a00:1::1]",
    "172.16.0.1",
    "192.168.1.1",
    "[::ffff:192.168.1.1]",
    "100.64.0.1",
    "169.254.1.1",
    "[fe80::1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[fec0::1]",
]
ALWAYS_REFUSED = METADATA_HOSTS + UNSPECIFIED_HOSTS + MULTICAST_HOSTS


def _refused(host: str, policy: GuardPolicy) -> bool:
    try:
        check_url(f"http://{host}/feed", policy=policy)
    except URLRefused:
        return True
    return False


@pytest.mark.parametrize("host", ALWAYS_REFUSED)
def test_metadata_unspecified_and_multicast_are_refused_even_with_private_feeds_allowed(
    host: str,
) -> None:
    assert _refused(host, GuardPolicy(allow_private=True))
    assert _refused(host, GuardPolicy(allowed_hosts=frozenset({"0.0.0.0/0", "::/0"})))


@pytest.mark.parametrize("host", ALWAYS_REFUSED + PRIVATE_HOSTS)
def test_every_form_is_refused_with_private_feeds_off(host: str) -> None:
    assert _refused(host, GuardPolicy())


def test_an_ipv4_mapped_loopback_is_judged_as_the_loopback_it_is() -> None:
    for policy in (GuardPolicy(), GuardPolicy(allow_private=True)):
        mapped = policy.address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"))
        plain = policy.address_refusal(ipaddress.ip_address("127.0.0.1"))
        assert (mapped is None) == (plain is None)


def test_an_allow_listed_network_is_matched_by_the_embedded_address() -> None:
    policy = GuardPolicy(allow_private=True, allowed_hosts=frozenset({"10.20.0.0/16"}))
    assert policy.address_refusal(ipaddress.ip_address("::ffff:10.20.1.1")) is None


@pytest.mark.parametrize(
    "answer",
    [
        "169.254.169.254",
        "::ffff:169.254.169.254",
        "::ffff:a9fe:a9fe",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "::169.254.169.254",
        "168.63.129.16",
        "fd00:ec2::254",
        "0.0.0.0",
        "::",
        "::ffff:0.0.0.0",
        "224.0.0.1",
        "::ffff:224.0.0.1",
        "ff02::1",
    ],
)
def test_dns_answers_in_any_form_are_refused_with_private_feeds_allowed(answer: str) -> None:
    results = [
        ResolveResult(hostname="rsshub.intra", host=answer, port=80, family=0, proto=0, flags=0)
    ]
    for policy in (
        GuardPolicy(allow_private=True),
        GuardPolicy(allowed_hosts=frozenset({"rsshub.intra"})),
    ):
        with pytest.raises(ForbiddenAddressError):
            filter_resolved(results, host="rsshub.intra", policy=policy)
