"""Group robots of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) as alert channels: the rules.

Pure: what each platform allows (its sending limits, in :data:`LIMITS`, the one place they are
written down), how a request is signed, what an answer means, and how a notice rendered for
Telegram (its HTML subset) becomes the platform's markdown within its byte limits.

Sources (checked 2026-12): WeCom 群机器人配置说明 (20 messages/minute per robot, markdown
content at most 4096 bytes, text 2048 bytes, errcode 45009 = frequency limit); DingTalk 自定义机器人
安全设置/限流 (20 messages/minute per robot, over the limit the robot is throttled for 10 minutes,
errcode 130101 / 410100 = too fast, 310000 = sign/keyword/IP refused, 300001 = bad token); Feishu
自定义机器人使用指南 (100 requests/minute and 5/second per bot, request body at most 20 KB,
code 9499 / 11232 = too many requests, 19021 = sign mismatch, 19001/19002 = bad webhook).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_plus


class RobotKind(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``count`` messages in any ``seconds`` long window."""

    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class RobotLimits:
    windows: tuple[Window, ...]
    body_bytes: int
    """The most bytes of message content one message may carry (markdown where used)."""
    text_bytes: int
    """The most bytes of a plain text message (used when someone is @-mentioned)."""
    signs: bool
    """Whether the robot has a signing secret (DingTalk 加签, Feishu 签名校验)."""
    mentions_by_mobile: bool


#: Every platform's limits, in one place. The per-minute windows are kept one short of the
#: documented figure so a clock skew between us and the platform never trips the limit.
LIMITS: dict[RobotKind, RobotLimits] = {
    RobotKind.WECOM: RobotLimits(
        windows=(Window(19, 60.0),),
        body_bytes=4096,
        text_bytes=2048,
        signs=False,
        mentions_by_mobile=True,
    ),
    RobotKind.DINGTALK: RobotLimits(
        windows=(Window(19, 60.0),),
        body_bytes=4096,  # the platform accepts more; kept to WeCom's figure for one reading
        text_bytes=4096,
        signs=True,
        mentions_by_mobile=True,
    ),
    RobotKind.FEISHU: RobotLimits(
        windows=(Window(99, 60.0), Window(5, 1.0)),
        body_bytes=18_000,  # 20 KB per request body, minus the JSON envelope
        text_bytes=18_000,
        signs=True,
        mentions_by_mobile=False,  # an @ needs the person's open_id, which we do not keep
    ),
}


def next_allowed(kind: RobotKind, sent_at: Sequence[float], now: float) -> float:
    """The earliest time (monotonic seconds) the robot may send again; ``<= now`` means now.

    ``sent_at`` are the times of the robot's earlier messages, oldest first.
    """
    earliest = now
    for window in LIMITS[kind].windows:
        recent = [t for t in sent_at if t > now - window.seconds]
        if len(recent) >= window.count:
            earliest = max(earliest, recent[len(recent) - window.count] + window.seconds)
    return earliest


# -- signing ---------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}")), unencoded."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_signed_url(webhook: str, secret: str, timestamp_ms: int) -> str:
    """The webhook with ``&timestamp=…&sign=…`` (url-encoded) appended."""
    sign = quote_plus(dingtalk_sign(secret, timestamp_ms))
    joiner = "&" if "?" in webhook else "?"
    return f"{webhook}{joiner}timestamp={timestamp_ms}&sign={sign}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


# -- answers -----------------------------------------------------------------------------------


class RobotOutcome(StrEnum):
    SENT = "sent"
    RATE_LIMITED = "rate_limited"
    """Wait and send the same message again."""
    PERMANENT = "permanent"
    """Invalid key or token, signature refused, keyword/IP refused, malformed message: fail."""
    TRANSIENT = "transient"
    """System busy, a 5xx, a proxy's page: retry with backoff."""


RATE_LIMIT_CODES: dict[RobotKind, frozenset[int]] = {
    RobotKind.WECOM: frozenset({45009, 45033}),
    RobotKind.DINGTALK: frozenset({130101, 410100}),
    RobotKind.FEISHU: frozenset({9499, 11232}),
}
TRANSIENT_CODES: dict[RobotKind, frozenset[int]] = {
    RobotKind.WECOM: frozenset({-1}),
    RobotKind.DINGTALK: frozenset({-1}),
    RobotKind.FEISHU: frozenset({-1, 1000}),
}
#: How long a rate-limited robot is left alone (DingTalk throttles for ten minutes).
RATE_LIMIT_PAUSE: dict[RobotKind, float] = {
    RobotKind.WECOM: 60.0,
    RobotKind.DINGTALK: 600.0,
    RobotKind.FEISHU: 60.0,
}


@dataclass(frozen=True, slots=True)
class RobotAnswer:
    outcome: RobotOutcome
    code: int | None
    message: str


def classify(kind: RobotKind, status: int, body: Any) -> RobotAnswer:
    """What an HTTP ``status`` and its parsed JSON ``body`` (or ``None``) mean for the row."""
    code, message = _code_of(body)
    if status == 429 or (code is not None and code in RATE_LIMIT_CODES[kind]):
        return RobotAnswer(RobotOutcome.RATE_LIMITED, code, message or "rate limited")
    if status >= 500 or status in (408, 425):
        return RobotAnswer(RobotOutcome.TRANSIENT, code, message or f"HTTP {status}")
    if code is None:
        if 200 <= status < 300:
            return RobotAnswer(RobotOutcome.TRANSIENT, None, "answer without a code")
        return RobotAnswer(RobotOutcome.PERMANENT, None, message or f"HTTP {status}")
    if code == 0:
        return RobotAnswer(RobotOutcome.SENT, 0, message)
    if code in TRANSIENT_CODES[kind]:
        return RobotAnswer(RobotOutcome.TRANSIENT, code, message)
    return RobotAnswer(RobotOutcome.PERMANENT, code, message)


def _code_of(body: Any) -> tuple[int | None, str]:
    if not isinstance(body, dict):
        return None, ""
    for code_key, message_key in (
        ("errcode", "errmsg"),
        ("code", "msg"),
        ("StatusCode", "StatusMessage"),
    ):
        value = body.get(code_key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value, str(body.get(message_key, ""))[:200]
    return None, ""


# -- rendering ---------------------------------------------------------------------------------


class _HtmlToMarkdown(HTMLParser):
    """Telegram's HTML subset to markdown (``plain``: text without markup, links as ``t (url)``)."""

    def __init__(self, *, plain: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.plain = plain
        self.out: list[str] = []
        self._links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append(dict(attrs).get("href") or "")
            self.out.append("" if self.plain else "[")
        elif tag in ("b", "strong") and not self.plain:
            self.out.append("**")
        elif tag in ("code",) and not self.plain:
            self.out.append("`")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "blockquote" and not self.plain:
            self.out.append("> ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            href = self._links.pop() if self._links else ""
            if self.plain:
                self.out.append(f" ({href})" if href else "")
            else:
                self.out.append(f"]({href})")
        elif tag in ("b", "strong") and not self.plain:
            self.out.append("**")
        elif tag in ("code",) and not self.plain:
            self.out.append("`")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def html_to_markdown(html: str, *, plain: bool = False) -> str:
    parser = _HtmlToMarkdown(plain=plain)
    parser.feed(html)
    parser.close()
    text = unescape("".join(parser.out))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def truncate_bytes(text: str, limit: int, note: str) -> str:
    """``text`` within ``limit`` UTF-8 bytes; when cut, ends with ``note`` (never a split char)."""
    if len(text.encode()) <= limit:
        return text
    tail = f"\n…{note}"
    room = limit - len(tail.encode())
    cut = text.encode()[: max(room, 0)].decode(errors="ignore")
    return cut.rstrip() + tail


@dataclass(frozen=True, slots=True)
class RobotMessage:
    """One message for one robot: the JSON body and any query to add to the webhook."""

    body: dict[str, Any]
    mentioned: bool


def robot_message(
    kind: RobotKind,
    html: str,
    *,
    title: str,
    truncated_note: str,
    mobiles: Sequence[str] = (),
) -> RobotMessage:
    """The platform's message for a notice rendered as Telegram HTML.

    WeCom mentions only in text messages (``mentioned_mobile_list``), so a message with an @ goes
    as text within 2048 bytes; DingTalk mentions in markdown (``at.atMobiles`` and ``@mobile`` in
    the text); Feishu cannot mention by mobile, so ``mobiles`` are ignored there.
    """
    limits = LIMITS[kind]
    mention = list(mobiles) if limits.mentions_by_mobile else []
    if kind is RobotKind.WECOM:
        if mention:
            text = truncate_bytes(
                html_to_markdown(html, plain=True), limits.text_bytes, truncated_note
            )
            return RobotMessage(
                {
                    "msgtype": "text",
                    "text": {"content": text, "mentioned_mobile_list": mention},
                },
                True,
            )
        content = truncate_bytes(html_to_markdown(html), limits.body_bytes, truncated_note)
        return RobotMessage({"msgtype": "markdown", "markdown": {"content": content}}, False)
    if kind is RobotKind.DINGTALK:
        suffix = "".join(f" @{m}" for m in mention)
        room = limits.body_bytes - len(suffix.encode())
        content = truncate_bytes(html_to_markdown(html), room, truncated_note) + suffix
        return RobotMessage(
            {
                "msgtype": "markdown",
                "markdown": {"title": title, "text": content},
                "at": {"atMobiles": mention, "isAtAll": False},
            },
            bool(mention),
        )
    text = truncate_bytes(html_to_markdown(html, plain=True), limits.body_bytes, truncated_note)
    return RobotMessage({"msg_type": "text", "content": {"text": text}}, False)


# -- display -----------------------------------------------------------------------------------


def mask_secret(value: str | None) -> str:
    """A secret or a webhook shown back: never more than its last four characters."""
    if not value:
        return "—"
    return "••••" + value[-4:] if len(value) > 8 else "••••"


def mask_webhook(url: str) -> str:
    """The webhook's host and the last four characters of its key or token."""
    match = re.match(r"^(https?://[^/?#]+)", url)
    host = match.group(1) if match else ""
    return f"{host}/…{mask_secret(url)}"


MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_mobile(text: str) -> str | None:
    """A mainland mobile number (11 digits, optional +86 and spaces/dashes), or ``None``."""
    digits = re.sub(r"[\s-]", "", text.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if MOBILE_RE.match(digits) else None


def mask_mobile(mobile: str | None) -> str:
    """138****5678."""
    if not mobile:
        return "—"
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 7 else "****"


def webhook_looks_right(kind: RobotKind, url: str) -> bool:
    """The shape each platform's webhook has (a self-hosted 浙政钉 keeps the path and query)."""
    patterns = {
        RobotKind.WECOM: r"^https?://[^/]+/cgi-bin/webhook/send\?key=[\w-]+",
        RobotKind.DINGTALK: r"^https?://[^/]+/robot/send\?access_token=\w+",
        RobotKind.FEISHU: r"^https?://[^/]+/open-apis/bot/v2/hook/[\w-]+$",
    }
    return re.match(patterns[kind], url.strip()) is not None
