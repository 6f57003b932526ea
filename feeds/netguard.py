"""SSRF guard for feed URLs: they are user input, and the poller runs inside the office network.

Three layers, because each one alone leaks:

* :func:`check_url` refuses what is wrong before any socket exists: non-http(s) schemes,
  ``user:pass@`` userinfo, over-long URLs, legacy numeric hosts (``2130706433``, ``0x7f.1``) and
  forbidden IP literals. aiohttp never consults the resolver for IP literals, so this check has to
  run before every request, redirects included.
* :class:`GuardedResolver` wraps aiohttp's resolver and drops every address the policy forbids,
  so a hostname that resolves (or re-resolves, DNS rebinding) to 10.x or 169.254.169.254 is never
  connected to: aiohttp only dials what the resolver returns.
* :class:`GuardPolicy` lifts the guard for the office's own intranet feeds (``ALLOW_PRIVATE_FEEDS``
  or an allow-list of hostnames, IPs and CIDRs), but never for cloud metadata, multicast or the
  unspecified address, which are not feed sources under any configuration.

Every decision is taken on the IPv4 address an IPv6 address carries as well as on the IPv6 form
(:func:`embedded_ipv4`: IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``,
IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo), on URL literals
and on DNS answers alike: ``[::ffff:169.254.169.254]`` is the metadata endpoint and
``[::ffff:127.0.0.1]`` is 127.0.0.1, whatever the policy.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from governance.outcomes import PollOutcome

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"http", "https"})

# Cloud metadata endpoints: AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba Cloud, Azure WireServer.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")  # "this host on this network": 0.x dials local

# Reasons no policy lifts: these are never a feed server. NAT64 local-use prefixes embed their
# IPv4 address at a position only the operator knows, so nothing can be said about them.
_ALWAYS_FORBIDDEN_PREFIXES = ("metadata", "unspecified", "multicast", "NAT64 local-use")


class ForbiddenAddressError(OSError):
    """Raised by :class:`GuardedResolver` when every address of a host is forbidden.

    An ``OSError`` so aiohttp wraps it in ``ClientConnectorDNSError`` like any failed lookup;
    the fetch layer finds it again through ``exc.os_error``.
    """

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: forbidden address ({reason})")
        self.host = host
        self.reason = reason


def is_forbidden_address(ip: IPAddress) -> str | None:
    """Return why connecting to ``ip`` is refused, or ``None`` for an ordinary global address.

    Explicit checks come before ``is_global`` because Python 3.11 calls several dangerous ranges
    global (``::ffff:127.0.0.1``, ``64:ff9b:1::/48``, multicast, ``fec0::/10``).
    """
    if ip in METADATA_ADDRESSES or any(v4 in METADATA_ADDRESSES for v4 in embedded_ipv4(ip)):
        return "metadata endpoint"
    if isinstance(ip, ipaddress.IPv4Address):
        return _forbidden_v4(ip)
    return _forbidden_v6(ip)


def embedded_ipv4(ip: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries (empty for IPv4 and plain IPv6 addresses).

    IPv4-mapped ``::ffff:a.b.c.d`` and IPv4-translated ``::ffff:0:a.b.c.d`` (the kernel dials the
    IPv4 address), IPv4-compatible ``::a.b.c.d``, NAT64 well-known ``64:ff9b::/96``, 6to4
    ``2002:AABB:CCDD::/48``, and Teredo's server and (de-obfuscated) client.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return ()
    value = int(ip)
    low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if value >> 32 == 0xFFFF0000:  # ::ffff:0:a.b.c.d
        return (low,)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d (:: and ::1 are themselves)
        return (low,)
    if ip in _NAT64_WELL_KNOWN:
        return (low,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    return ()


def _forbidden_v4(ip: ipaddress.IPv4Address) -> str | None:
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip in _CGNAT:
        return "CGNAT (100.64.0.0/10)"
    if ip.is_reserved or ip == ipaddress.IPv4Address("255.255.255.255"):
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-global"
    return None


def _forbidden_v6(ip: ipaddress.IPv6Address) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_loopback:
        return "loopback"
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped IPv6"
    if int(ip) >> 32 == 0:  # ::a.b.c.d, deprecated IPv4-compatible form
        return "IPv4-compatible IPv6"
    if ip in _NAT64_LOCAL_USE:
        return "NAT64 local-use (64:ff9b:1::/48)"
    if ip in _NAT64_WELL_KNOWN:
        inner = _forbidden_v4(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return f"NAT64-mapped {inner}" if inner else None
    if ip.sixtofour is not None:
        inner = _forbidden_v4(ip.sixtofour)
        return f"6to4 embedding {inner}" if inner else None
    if ip.teredo is not None:
        for embedded in ip.teredo:
            inner = _forbidden_v4(embedded)
            if inner:
                return f"Teredo embedding {inner}"
        return "Teredo"
    if ip.is_link_local:
        return "link-local"
    if ip in _SITE_LOCAL:
        return "site-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-global"
    return None


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """What the guard lets through beyond ordinary global addresses.

    ``allow_private`` lifts loopback, private, link-local, CGNAT and similar ranges (an office that
    runs everything on its intranet). ``allowed_hosts`` lifts the guard for exactly these
    hostnames, IP addresses or CIDR blocks, e.g. ``{"rsshub.intra.gov.cn", "10.20.0.0/16"}``.
    Metadata, multicast and unspecified addresses stay forbidden under every policy, in every
    form (an IPv6 address is judged by the IPv4 addresses it embeds as well).
    ``only_allowed`` turns the allow-list into the whole world: every other address, global ones
    included, is refused, and :func:`check_url` refuses other hostnames before any DNS lookup
    (the demo's local feed farm; a closed network).
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    only_allowed: bool = False
    _names: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in self.allowed_hosts:
            text = entry.strip().strip("[]")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(_normalise_host(text))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_networks", tuple(networks))

    def host_allowed(self, host: str) -> bool:
        """True when the hostname itself is on the allow-list (all its addresses are then fine)."""
        return _normalise_host(host) in self._names

    def address_refusal(self, ip: IPAddress, *, host: str | None = None) -> str | None:
        """Why this policy refuses ``ip`` (reached through ``host``), or ``None`` if allowed.

        Each embedded IPv4 address is judged first, as if it had been given itself.
        """
        for inner in embedded_ipv4(ip):
            reason = self._refusal(inner, host)
            if reason is not None:
                return f"{reason} (embedded in {ip})"
        return self._refusal(ip, host)

    def _refusal(self, ip: IPAddress, host: str | None) -> str | None:
        reason = is_forbidden_address(ip)
        if reason is None and self.only_allowed:
            reason = "not on the allow-list"
        if reason is None:
            return None
        if reason.startswith(_ALWAYS_FORBIDDEN_PREFIXES):
            return reason
        if host is not None and self.host_allowed(host):
            return None
        if any(ip.version == net.version and ip in net for net in self._networks):
            return None
        if self.allow_private and not self.only_allowed:
            return None
        return reason


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def parse_ip(host: str) -> IPAddress | None:
    """The IP address a URL host denotes, or ``None`` for a hostname (IPv6 scope ids dropped)."""
    text = host.strip("[]").split("%", 1)[0].rstrip(".")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_legacy_numeric_host(host: str) -> bool:
    """``2130706433``, ``127.1``, ``0x7f.0.0.1``: forms inet_aton maps onto an address."""
    try:
        socket.inet_aton(host)
    except (OSError, UnicodeError, ValueError):
        return False
    return True


class URLRefused(Exception):
    """A URL the guard refuses before any connection; ``kind`` is ``bad_url`` or ``forbidden``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def check_url(url: str | URL, *, policy: GuardPolicy) -> URL:
    """Validate one hop's URL and return it parsed; raise :class:`URLRefused` otherwise."""
    text = str(url)
    if len(text) > MAX_URL_LENGTH:
        raise URLRefused("bad_url", f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = url if isinstance(url, URL) else URL(text)
    except (ValueError, TypeError) as exc:
        raise URLRefused("bad_url", f"malformed URL: {type(exc).__name__}") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise URLRefused("bad_url", "only http and https URLs are accepted")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise URLRefused("bad_url", "URLs with user:password@ are not accepted")
    host = parsed.host
    if not host:
        raise URLRefused("bad_url", "URL has no host")
    ip = parse_ip(host)
    if ip is None:
        if _is_legacy_numeric_host(host):
            raise URLRefused("bad_url", "numeric host is not a canonical IP address")
        if policy.only_allowed and not policy.host_allowed(host):
            raise URLRefused("forbidden", "host refused: not on the allow-list")
        return parsed
    reason = policy.address_refusal(ip)
    if reason is not None:
        raise URLRefused("forbidden", f"address refused: {reason}")
    return parsed


def feed_url_refusal(url: str, *, policy: GuardPolicy) -> PollOutcome | None:
    """The outcome the poller would record for ``url`` before connecting, or ``None``.

    For every path that stores a feed URL without fetching it (ledger imports): the address
    rules of registration, decided on the URL itself.
    """
    try:
        check_url(url, policy=policy)
    except URLRefused as exc:
        return PollOutcome.FORBIDDEN_ADDRESS if exc.kind == "forbidden" else PollOutcome.BAD_URL
    return None


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that keeps only the addresses ``policy`` allows.

    Every connection aiohttp makes to a hostname goes through ``resolve``, so filtering here
    also covers redirects and re-resolution after the DNS cache expires (DNS rebinding).
    """

    def __init__(self, policy: GuardPolicy, *, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        return filter_resolved(results, host=host, policy=self.policy)

    async def close(self) -> None:
        await self._inner.close()


def filter_resolved(
    results: Iterable[ResolveResult], *, host: str, policy: GuardPolicy
) -> list[ResolveResult]:
    """Drop forbidden addresses; raise :class:`ForbiddenAddressError` if none remain."""
    kept: list[ResolveResult] = []
    first_reason: str | None = None
    for result in results:
        ip = parse_ip(result["host"])
        reason = "unparseable address" if ip is None else policy.address_refusal(ip, host=host)
        if reason is None:
            kept.append(result)
        elif first_reason is None:
            first_reason = reason
    if not kept:
        raise ForbiddenAddressError(host, first_reason or "no address")
    return kept


def guarded_connector(
    policy: GuardPolicy,
    *,
    limit: int = 50,
    limit_per_host: int = 2,
    inner_resolver: AbstractResolver | None = None,
    **kwargs: Any,
) -> aiohttp.TCPConnector:
    """A TCPConnector whose DNS answers pass through :class:`GuardedResolver`.

    Build the poller's one shared ``ClientSession`` on it (with ``trust_env=False``: through a
    proxy the resolver would only ever see the proxy's name).
    """
    resolver = GuardedResolver(policy, inner=inner_resolver)
    return aiohttp.TCPConnector(
        resolver=resolver, limit=limit, limit_per_host=limit_per_host, **kwargs
    )


def session_is_guarded(session: aiohttp.ClientSession) -> bool:
    """Whether ``session`` resolves through a :class:`GuardedResolver`.

    aiohttp exposes the resolver only as the connector's private ``_resolver``; reading it lets
    the fetch layer refuse an unguarded session instead of silently losing SSRF protection.
    """
    resolver = getattr(session.connector, "_resolver", None)
    return isinstance(resolver, GuardedResolver) and not session.trust_env
