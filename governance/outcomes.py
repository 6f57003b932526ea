"""How one poll of a feed ended, and what to tell a person about it.

The outcomes are chosen so that someone can act on them: transient trouble (timeout, network,
rate_limited, server_error) waits for the next poll; blocked and misconfigured need a person to
fix the source; no_posts is a finding about the account, not about the feed.
"""

from __future__ import annotations

from enum import StrEnum

from governance.i18n import N_


class PollOutcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    TIMEOUT = "timeout"
    NETWORK = "network"
    RATE_LIMITED = "rate_limited"
    BLOCKED = "blocked"
    MISCONFIGURED = "misconfigured"
    SERVER_ERROR = "server_error"
    NO_POSTS = "no_posts"
    NOT_A_FEED = "not_a_feed"
    TOO_LARGE = "too_large"  # over the byte cap, or parsing ran over its time limit
    EMPTY_BODY = "empty_body"  # a 200 with nothing in it: a failure, never "not modified"
    FORBIDDEN_ADDRESS = "forbidden_address"
    BAD_URL = "bad_url"

    @property
    def is_success(self) -> bool:
        """The upstream answered as a feed source should (the account may still have no posts)."""
        return self in _SUCCESSES

    @property
    def is_transient(self) -> bool:
        """Worth retrying on the usual backoff without anyone changing anything."""
        return self in _TRANSIENT


_SUCCESSES = frozenset({PollOutcome.OK, PollOutcome.NOT_MODIFIED, PollOutcome.NO_POSTS})
_TRANSIENT = frozenset(
    {
        PollOutcome.TIMEOUT,
        PollOutcome.NETWORK,
        PollOutcome.RATE_LIMITED,
        PollOutcome.SERVER_ERROR,
    }
)

# One Chinese explanation per outcome: gettext message ids (marked with ``N_`` so they reach the
# catalogs), translated for the reader at display time. ``{status}`` is the HTTP status code.
OUTCOME_MESSAGES_ZH: dict[PollOutcome, str] = {
    PollOutcome.OK: N_("订阅源可用"),
    PollOutcome.NOT_MODIFIED: N_("订阅源无更新"),
    PollOutcome.TIMEOUT: N_("连接超时"),
    PollOutcome.NETWORK: N_("无法连接"),
    PollOutcome.RATE_LIMITED: N_("HTTP {status}：请求过于频繁，服务器要求稍后再试"),
    PollOutcome.BLOCKED: N_("被上游拒绝访问（反爬虫验证、验证码或 Cookie 失效）"),
    PollOutcome.MISCONFIGURED: N_("HTTP {status}：地址不存在或订阅源配置有误"),
    PollOutcome.SERVER_ERROR: N_("HTTP {status}：服务器错误"),
    PollOutcome.NO_POSTS: N_("上游显示该账号暂未发布内容"),
    PollOutcome.NOT_A_FEED: N_("不是有效的订阅源（RSS/Atom/JSON Feed）"),
    PollOutcome.TOO_LARGE: N_("订阅源内容过大"),
    PollOutcome.EMPTY_BODY: N_("订阅源返回了空内容"),
    PollOutcome.FORBIDDEN_ADDRESS: N_("出于安全原因，不允许访问内网或保留地址"),
    PollOutcome.BAD_URL: N_("地址格式无效（仅支持 http/https，且不能包含用户名密码）"),
}


def outcome_message_zh(outcome: PollOutcome, *, status: int | None = None) -> str:
    """The Chinese explanation of ``outcome``, with the HTTP status filled in (untranslated:
    readers get ``handlers.render.outcome_text``)."""
    template = OUTCOME_MESSAGES_ZH[outcome]
    if "{status}" in template:
        return template.format(status=status if status is not None else "?")
    return template
