"""What a list page yields: items (title, link, date), how they were found, and why not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from governance.i18n import N_


class ExtractMethod(StrEnum):
    """How the items were found: by the automatic detector, by the column's CSS selector, or
    not at all (then :attr:`ListPage.reason` says why)."""

    DETECTED = "detected"
    SELECTOR = "selector"
    NONE = "none"


class NoItemsReason(StrEnum):
    """Why a list page gave no items. Stored strings: never change a value."""

    EMPTY_BODY = "empty_body"
    NOT_HTML = "not_html"
    UNPARSABLE = "unparsable"
    NO_LINKS = "no_links"
    NO_DATED_BLOCK = "no_dated_block"
    EMPTY_NOTICE = "empty_notice"  # the page says 暂无信息: an empty column
    BAD_SELECTOR = "bad_selector"
    SELECTOR_MATCHED_NOTHING = "selector_matched_nothing"
    SELECTOR_NO_ITEMS = "selector_no_items"

    @property
    def label(self) -> str:
        return NO_ITEMS_LABELS[self]


NO_ITEMS_LABELS: dict[NoItemsReason, str] = {
    NoItemsReason.EMPTY_BODY: N_("页面内容为空"),
    NoItemsReason.NOT_HTML: N_("页面不是网页（HTML）"),
    NoItemsReason.UNPARSABLE: N_("页面无法解析"),
    NoItemsReason.NO_LINKS: N_("页面中没有链接"),
    NoItemsReason.NO_DATED_BLOCK: N_("未找到带日期的信息列表，请为该栏目设置选择器"),
    NoItemsReason.EMPTY_NOTICE: N_("栏目页面显示暂无信息"),
    NoItemsReason.BAD_SELECTOR: N_("栏目选择器写法有误"),
    NoItemsReason.SELECTOR_MATCHED_NOTHING: N_("栏目选择器在页面中没有匹配到内容"),
    NoItemsReason.SELECTOR_NO_ITEMS: N_("栏目选择器匹配到的内容中没有带标题的链接"),
}


@dataclass(frozen=True, slots=True)
class ListItem:
    """One entry of a column list.

    ``link`` is absolute (resolved against the page URL and any ``<base href>``). ``published``
    is the site's own calendar date (Beijing time as printed); ``published_time`` is set when the
    page also printed a time of day. ``year_inferred``: the page printed no year (``[11-30]``)
    and none was in the link, so the year is the latest that does not put the date ahead of
    today; a column silent for over a year would look recent, so where that matters read the
    item's own page (:func:`feeds.listpage.article_date`).
    """

    title: str
    link: str
    published: date | None = None
    published_time: time | None = None
    year_inferred: bool = False

    @property
    def published_at(self) -> datetime | None:
        """Date and time as printed (naive, the site's local time); midnight without a time."""
        if self.published is None:
            return None
        return datetime.combine(self.published, self.published_time or time())


@dataclass(frozen=True, slots=True)
class ListPage:
    """The result of :func:`feeds.listpage.extract_items`; never raised, always returned."""

    items: list[ListItem] = field(default_factory=list)
    encoding: str = "utf-8"
    method: ExtractMethod = ExtractMethod.NONE
    reason: NoItemsReason | None = None

    @property
    def newest(self) -> date | None:
        """The latest item date on the page (what update rules compare with a deadline)."""
        return max((i.published for i in self.items if i.published is not None), default=None)
