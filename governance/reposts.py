"""Repost tasks (转载任务): is this post a repost of the assigned article? Pure rules.

A repost is recognised by, in order of trust:

1. **the link** — the post's link, or a link in its text, is the article's link once both are
   canonical (scheme, ``www.``, fragments and tracking parameters such as ``utm_*``, ``spm``,
   ``from``, share ids dropped; a WeChat article is known by ``__biz``/``mid``/``idx`` or by its
   ``/s/<id>`` short form);
2. **the text** — most of the shorter text's character trigrams appear in the longer one, after
   the lines reposts add (``来源：``, ``转自``, ``编辑：``, ``原标题：``) are dropped;
3. **the title** — after repost prefixes (``【转载】``, ``转发：``, ``转自XX：``) and source
   suffixes are stripped, the titles share long common blocks, and whatever the post *adds*
   sits at its edges (an editor's ``重磅！`` or ``来了``), never inside: a title that swaps a
   word in the middle (``安全生产月`` → ``防汛安全月``) is another article. Shortened titles keep
   their order, so deletions anywhere are allowed. A title match on a post that carries no text
   of the article is a headline-only repost (仅转标题), which a task may or may not accept; a
   post whose own long text is unlike the article's is not a repost whatever its title.

Reads and likes play no part here or in any score (national rules).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from governance.i18n import N_
from governance.matching import containment, normalize


class MatchMethod(StrEnum):
    """How a repost was recognised; stored, so the values never change."""

    LINK = "link"
    TEXT = "text"
    TITLE = "title"
    HEADLINE = "headline"  # the title only, the post carries none of the text
    MANUAL = "manual"  # confirmed by hand with a link


METHOD_LABELS: dict[MatchMethod, str] = {
    MatchMethod.LINK: N_("链接一致"),
    MatchMethod.TEXT: N_("正文相似"),
    MatchMethod.TITLE: N_("标题相似"),
    MatchMethod.HEADLINE: N_("仅转标题"),
    MatchMethod.MANUAL: N_("人工确认"),
}


class TaskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


TASK_STATUS_LABELS: dict[TaskStatus, str] = {
    TaskStatus.OPEN: N_("进行中"),
    TaskStatus.CLOSED: N_("已结束"),
    TaskStatus.CANCELLED: N_("已撤销"),
}


class TargetStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


class Progress(StrEnum):
    """What the card shows for one account: done, still pending, or pending past the deadline."""

    DONE = "done"
    PENDING = "pending"
    OVERDUE = "overdue"


PROGRESS_LABELS: dict[Progress, str] = {
    Progress.DONE: N_("已转载"),
    Progress.PENDING: N_("待转载"),
    Progress.OVERDUE: N_("逾期未转载"),
}


class ScopeKind(StrEnum):
    """Which accounts a task goes to."""

    ALL = "all"
    UNITS = "units"
    PLATFORMS = "platforms"
    LIST = "list"


SCOPE_LABELS: dict[ScopeKind, str] = {
    ScopeKind.ALL: N_("全部账号"),
    ScopeKind.UNITS: N_("按单位"),
    ScopeKind.PLATFORMS: N_("按平台"),
    ScopeKind.LIST: N_("指定账号"),
}

# --- links ----------------------------------------------------------------------------------

URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'，。；！？、）】」]+", re.IGNORECASE)
#: Query parameters that say who shared a link and how, never which page it is. Only names
#: seen as tracking on the platforms reposts come from; an unknown one is kept (two links that
#: differ in it stay different: a missed link match costs less than a false one).
_TRACKING_EXACT = frozenset(
    {
        "spm",
        "from",
        "scene",
        "srcid",
        "isappinstalled",
        "clicktime",
        "enterid",
        "wxfrom",
        "chksm",
        "sharer_sharetime",
        "sharer_shareid",
        "sharer_shareinfo",
        "sharer_shareinfo_first",
        "mpshare",
        "vd_source",
        "xsec_token",
        "xsec_source",
        "_wv",
        "ivk_sa",
        "exportkey",
        "pass_ticket",
        "wx_header",
        "ascene",
        "uin",
        "devicetype",
        "nettype",
        "abtest_cookie",
        "fontscale",
        "subscene",
        "sessionid",
        "poc_token",
        "tt_from",
        "wfr",
        "s_trans",
        "s_channel",
        "shareid",
        "share_id",
        "share_token",
        "share_source",
        "share_medium",
        "share_plat",
        "share_from",
        "share_tag",
        "share_app_id",
        "share_uid",
        "bbid",
    }
)
_TRACKING_PREFIXES = ("utm_", "share_", "sharer_", "spm_", "from_", "wx_")
_WECHAT_HOSTS = frozenset({"mp.weixin.qq.com", "weixin.qq.com"})


def _tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES)


def canonical_link(url: str | None) -> str | None:
    """The identity of the page ``url`` shows: what two copies of one link have in common.

    None for anything that is not an http(s) address. WeChat articles: ``wx:<__biz>:<mid>:<idx>``
    for the long form, ``wx:s:<id>`` for the short one (the two cannot be related offline).
    """
    if not url:
        return None
    text = unicodedata.normalize("NFKC", url.strip())
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if parts.port and parts.port not in {80, 443}:
        host = f"{host}:{parts.port}"
    query = parse_qsl(parts.query, keep_blank_values=False)
    path = parts.path or "/"
    if host in _WECHAT_HOSTS:
        params = {k.lower(): v for k, v in query}
        if path.startswith("/s/") and len(path) > 3:
            return "wx:s:" + path[3:].strip("/")
        if params.get("__biz") and params.get("mid"):
            return "wx:{}:{}:{}".format(params["__biz"], params["mid"], params.get("idx", "1"))
    if path != "/":
        path = path.rstrip("/")
    kept = sorted((k, v) for k, v in query if not _tracking(k))
    tail = "?" + urlencode(kept) if kept else ""
    return f"{host}{path}{tail}"[:512]


def links_in(*texts: str | None) -> list[str]:
    """Every http(s) address in ``texts``, in order, once each."""
    found: list[str] = []
    for text in texts:
        if text:
            found.extend(m.group(0).rstrip(".,;:!?)]") for m in URL_IN_TEXT.finditer(text))
    return list(dict.fromkeys(found))


# --- titles and texts -----------------------------------------------------------------------

#: Repost marks at the start of a title: bracketed tags, 转载/转发/转自XX, exclamations.
_TITLE_PREFIX = re.compile(
    r"^\s*(?:"
    r"[【\[〔（(「][^】\]〕）)」]{0,12}[】\]〕）)」]"  # 【转载】 [转发] （权威发布）
    r"|(?:转载|转发|转自|转|推荐|分享|来源)[^：:，,|｜]{0,16}[：:|｜]"  # 转自市政府网：
    r"|(?:重磅|速看|关注|提醒|最新|权威发布|官方发布|扩散|收藏|注意)[!！:：]*"
    r"|#[^#]{1,20}#"  # #话题#
    r")\s*"
)
#: Source and editor marks at the end of a title: "| 来源：xx", "——转自xx", "（转载）".
_TITLE_SUFFIX = re.compile(
    r"\s*(?:[|｜—\-–_]+\s*(?:来源|转自|转载自|via)?[^|｜—\-–_]{0,20}"
    r"|[（(【\[](?:转载|转发|转自|来源)[^）)】\]]{0,20}[）)】\]]"
    r"|(?:来源|转自|转载自)[：:][^，,。]{0,20})\s*$"
)
#: Lines a repost adds to the text: source, editor, reviewer, original title, follow-us prompts.
_SOURCE_LINE = re.compile(
    r"^\s*(?:来源|来\s*源|转自|转载自|文章来源|信息来源|原标题|原文标题|编辑|责任编辑|责编|"
    r"审核|审校|初审|复审|终审|校对|监制|出品|作者|记者|通讯员|图片|摄影|原文链接|阅读原文)"
    r"\s*[:：|｜].*$"
)


def clean_title(title: str) -> str:
    """The title without repost prefixes and source suffixes, normalized (see ``normalize``)."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    for _ in range(4):  # stacked marks: 【转载】重磅！…
        stripped = _TITLE_PREFIX.sub("", text, count=1)
        if stripped == text or not stripped:
            break
        text = stripped
    suffix = _TITLE_SUFFIX.sub("", text)
    return normalize(suffix or text)


def clean_text(text: str, title: str = "") -> str:
    """The text without added source/editor lines and without its title, normalized."""
    lines = (unicodedata.normalize("NFKC", text or "")).splitlines() or [text or ""]
    body = [line for line in lines if not _SOURCE_LINE.match(line)]
    joined = normalize("\n".join(body))
    own = normalize(title)
    if own and joined.startswith(own):
        joined = joined[len(own) :]
    return joined


@dataclass(frozen=True, slots=True)
class TitleLikeness:
    """How the post's cleaned title aligns with the task's: matched characters (in blocks of
    two or more), characters the post adds inside the aligned span, whether an end of the
    title was replaced (the task loses characters there and the post adds others), and the
    lengths."""

    matched: int
    inserted: int
    task_len: int
    post_len: int
    replaced_end: bool = False


def title_likeness(task_title: str, post_title: str) -> TitleLikeness:
    a, b = clean_title(task_title), clean_title(post_title)
    if not a or not b:
        return TitleLikeness(0, 0, len(a), len(b))
    blocks = [
        m for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks() if m.size >= 2
    ]
    if not blocks:
        return TitleLikeness(0, 0, len(a), len(b))
    matched = sum(m.size for m in blocks)
    first, last = blocks[0], blocks[-1]
    span = (last.b + last.size) - first.b
    head = min(first.a, first.b)
    tail = min(len(a) - last.a - last.size, len(b) - last.b - last.size)
    return TitleLikeness(matched, span - matched, len(a), len(b), max(head, tail) >= 2)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules' numbers (the benchmark measures them; see docs/benchmarks.md)."""

    title_min_chars: int = 6
    """Fewer matched characters than this is too little to recognise a title."""
    title_keep: float = 0.5
    """The post keeps at least this share of the article's title."""
    title_own: float = 0.6
    """The matched characters are at least this share of the post's title."""
    title_inserted: int = 1
    """At most this many characters added inside the aligned title (a changed particle)."""
    text_min_chars: int = 30
    """Texts shorter than this (normalized) carry no text evidence."""
    text_match: float = 0.8
    """Share of the shorter text's trigrams found in the longer: the same article (articles of
    one office share boilerplate sentences, so well over half)."""
    text_partial: float = 0.5
    """With a matching title, a text this alike means the post carries the article (not the
    headline only), though edited or cut."""
    text_contradicts: float = 0.25
    """A long post text below this likeness is another article, whatever its title."""
    text_long: int = 50
    """How long (normalized) a post text must be to contradict a matching title."""
    lookback: timedelta = timedelta(days=3)
    """Posts this long before the task was created still count (offices repost first)."""
    grace: timedelta = timedelta(days=30)
    """Open tasks are still matched this long after their deadline (late reposts)."""


def title_matches(task_title: str, post_title: str, th: Thresholds) -> bool:
    t = title_likeness(task_title, post_title)
    if t.matched < th.title_min_chars or not t.task_len or not t.post_len:
        return False
    return (
        t.matched / t.task_len >= th.title_keep
        and t.matched / t.post_len >= th.title_own
        and t.inserted <= th.title_inserted
        and not t.replaced_end
    )


def text_likeness(task_text: str, post_text: str) -> float | None:
    """Trigram containment of the shorter cleaned text in the longer; None without evidence."""
    a, b = task_text, post_text
    if not a or not b:
        return None
    if len(a) > len(b):
        a, b = b, a
    return containment(a, b)


@dataclass(frozen=True, slots=True)
class Article:
    """What a task asks to repost, prepared once for many posts."""

    title: str
    link_key: str | None
    text: str
    headline_counts: bool

    @classmethod
    def of(cls, *, title: str, link: str | None, text: str, headline_counts: bool) -> Article:
        return cls(title, canonical_link(link), clean_text(text, title), headline_counts)


@dataclass(frozen=True, slots=True)
class PostView:
    title: str
    link: str | None
    text: str


def judge(article: Article, post: PostView, th: Thresholds | None = None) -> MatchMethod | None:
    """How ``post`` reposts ``article``, or None when it does not (or only by headline and the
    task does not accept that)."""
    th = th or Thresholds()
    if article.link_key is not None:
        for url in (post.link, *links_in(post.text, post.title)):
            if canonical_link(url) == article.link_key:
                return MatchMethod.LINK
    text = clean_text(post.text, post.title)
    long_enough = len(text) >= th.text_min_chars and len(article.text) >= th.text_min_chars
    likeness = text_likeness(article.text, text) if long_enough else None
    if likeness is not None and likeness >= th.text_match:
        return MatchMethod.TEXT
    if not title_matches(article.title, post.title, th):
        return None
    if likeness is not None and likeness < th.text_contradicts and len(text) >= th.text_long:
        return None  # its own, different text: another article with a similar title
    if likeness is not None and likeness >= th.text_partial:
        return MatchMethod.TITLE  # the title and much of the text
    if len(text) < th.text_min_chars or article.text:  # the post does not carry the text
        return MatchMethod.HEADLINE if article.headline_counts else None
    return MatchMethod.TITLE  # a text of its own, the article's unknown: the title decides


def in_window(
    published: datetime, *, created_at: datetime, deadline: datetime, th: Thresholds | None = None
) -> bool:
    """Whether a post of this time may be the task's repost."""
    th = th or Thresholds()
    return created_at - th.lookback <= published <= deadline + th.grace


# --- progress -------------------------------------------------------------------------------


def progress_of(status: TargetStatus, *, deadline: datetime, now: datetime) -> Progress:
    if status is TargetStatus.DONE:
        return Progress.DONE
    return Progress.OVERDUE if now >= deadline else Progress.PENDING


@dataclass(frozen=True, slots=True)
class TargetLine:
    """One account of a task as the card and the report show it."""

    account_id: int
    account: str
    unit: str
    progress: Progress
    method: MatchMethod | None = None
    matched_at: datetime | None = None
    link: str | None = None
    late: bool = False


@dataclass(frozen=True, slots=True)
class UnitProgress:
    unit: str
    done: int
    pending: int
    overdue: int

    @property
    def total(self) -> int:
        return self.done + self.pending + self.overdue

    @property
    def rate(self) -> float:
        return self.done / self.total if self.total else 0.0


def by_unit(lines: Iterable[TargetLine]) -> list[UnitProgress]:
    """Per unit: done, pending and overdue counts, units in name order."""
    tally: dict[str, dict[Progress, int]] = {}
    for line in lines:
        counts = tally.setdefault(line.unit, dict.fromkeys(Progress, 0))
        counts[line.progress] += 1
    return [
        UnitProgress(unit, c[Progress.DONE], c[Progress.PENDING], c[Progress.OVERDUE])
        for unit, c in sorted(tally.items())
    ]


def totals(lines: Sequence[TargetLine]) -> Mapping[Progress, int]:
    counts = dict.fromkeys(Progress, 0)
    for line in lines:
        counts[line.progress] += 1
    return counts


class Reminder(StrEnum):
    """The two reminders of a task, each sent once to the responsible of pending accounts."""

    DAY_BEFORE = "day_before"
    DEADLINE = "deadline"


def due_reminders(
    *,
    deadline: datetime,
    now: datetime,
    sent: Iterable[Reminder],
    before: timedelta,
    created_at: datetime | None = None,
) -> list[Reminder]:
    """Reminders due at ``now`` and not yet sent. The day-before one is skipped once the
    deadline itself has passed (the deadline reminder says more), and for a task created
    less than ``before`` ahead of its deadline (the assignment has just said it)."""
    done = set(sent)
    due: list[Reminder] = []
    short_notice = created_at is not None and created_at >= deadline - before
    if now >= deadline:
        if Reminder.DEADLINE not in done:
            due.append(Reminder.DEADLINE)
    elif now >= deadline - before and Reminder.DAY_BEFORE not in done and not short_notice:
        due.append(Reminder.DAY_BEFORE)
    return due


# --- input ----------------------------------------------------------------------------------

_DEADLINE = re.compile(
    r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s+(\d{1,2})[:：](\d{2}))?\s*$"
)
DEFAULT_HOUR = 18  # a deadline given as a day means that day's close of business


def parse_deadline(text: str, *, tz: ZoneInfo) -> datetime | None:
    """``2026-01-25 18:00`` or ``2026-01-25`` (18:00) in the office's zone, as aware UTC;
    None when it is not a date."""
    match = _DEADLINE.match(unicodedata.normalize("NFKC", text or ""))
    if not match:
        return None
    year, month, day, hour, minute = match.groups()
    try:
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour) if hour else DEFAULT_HOUR,
            int(minute) if minute else 0,
            tzinfo=tz,
        )
    except ValueError:
        return None
    return local.astimezone(UTC)


def deadline_in(days: int, *, now: datetime, tz: ZoneInfo) -> datetime:
    """``days`` days from today at close of business, in the office's zone."""
    local = now.astimezone(tz).date() + timedelta(days=days)
    return datetime(local.year, local.month, local.day, DEFAULT_HOUR, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Source:
    """What a sent or forwarded message says about the article."""

    title: str | None
    link: str | None
    text: str | None


def read_source(text: str, *, extra_links: Sequence[str] = (), forwarded: bool = False) -> Source:
    """The article in a message: its first link, its first line as the title, and (for a
    forwarded message, or several lines) the rest as the text."""
    links = [*extra_links, *links_in(text)]
    link = next((u for u in links if canonical_link(u)), None)
    lines = [URL_IN_TEXT.sub("", line).strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return Source(None, link, None)
    title = lines[0][:300]
    rest = "\n".join(lines[1:]).strip()
    if forwarded or rest:
        return Source(title, link, rest or None)
    return Source(title, link, None)


@dataclass(frozen=True, slots=True)
class TaskReport:
    """One task in a period report: its accounts' progress as of the report."""

    task_id: int
    title: str
    deadline: datetime
    lines: tuple[TargetLine, ...]


@dataclass(frozen=True, slots=True)
class Completion:
    """Tasks assigned to a unit or an account, and how many were done."""

    name: str
    unit: str
    assigned: int
    done: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.done / self.assigned if self.assigned else 0.0


def completion(tasks: Iterable[TaskReport], *, per: str) -> list[Completion]:
    """Completion per ``"unit"`` or per ``"account"`` over every task, in name order."""
    tally: dict[tuple[str, str], list[int]] = {}
    for task in tasks:
        for line in task.lines:
            key = (
                (line.unit, line.unit)
                if per == "unit"
                else (line.unit, f"#{line.account_id} {line.account}")
            )
            counts = tally.setdefault(key, [0, 0, 0])
            counts[0] += 1
            counts[1] += line.progress is Progress.DONE
            counts[2] += line.progress is Progress.OVERDUE
    return [
        Completion(name=name, unit=unit, assigned=a, done=d, overdue=o)
        for (unit, name), (a, d, o) in sorted(tally.items())
    ]
