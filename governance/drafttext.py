"""A draft's text when parts of it arrive as documents (.docx, .pdf, legacy .doc/.wps).

The pre-check reads one text and its findings are spans into it. A document contributes its
extracted text as :class:`Segment` s, each with the :class:`Place` it came from (第3段, 表1第2行
第1列, 页脚, 脚注1, 第2页); :func:`compose` lays the messages and documents out as the draft's
body and remembers which span of the body came from where, so :meth:`Composed.place_at` names
the place of a finding. Every document starts with a header line (【文件：name】): a document
whose text could not be read (a scanned PDF, a legacy file without a converter) is one finding
on that header, never a silent "no problems found".

Pure: the reading itself is in :mod:`documents.drafts`; this module only shapes its result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from governance.i18n import N_
from governance.vocabulary import Translate, untranslated

if TYPE_CHECKING:  # the checker's package is heavy to import; the file reader imports this
    from governance.quality import Finding


class Spot(StrEnum):
    """Where in a document a piece of text sits (stored: the values never change)."""

    PARAGRAPH = "para"  # a = paragraph number in the body
    TABLE = "table"  # a = table, b = row, c = column
    HEADER = "header"  # a = the header's number when a document has several
    FOOTER = "footer"
    FOOTNOTE = "footnote"  # a = footnote number
    ENDNOTE = "endnote"
    COMMENT = "comment"  # a = comment number
    TEXTBOX = "textbox"  # a = text box number
    PAGE = "page"  # a = page number (PDF, converted legacy files have no pages: paragraphs)
    FILE = "file"  # the document as a whole (its header line)


SPOT_LABELS: dict[Spot, str] = {
    Spot.PARAGRAPH: N_("第{a}段"),
    Spot.TABLE: N_("表{a}第{b}行第{c}列"),
    Spot.HEADER: N_("页眉"),
    Spot.FOOTER: N_("页脚"),
    Spot.FOOTNOTE: N_("脚注{a}"),
    Spot.ENDNOTE: N_("尾注{a}"),
    Spot.COMMENT: N_("批注{a}"),
    Spot.TEXTBOX: N_("文本框{a}"),
    Spot.PAGE: N_("第{a}页"),
    Spot.FILE: N_("文件"),
}


class Readable(StrEnum):
    """How far a document could be read (stored with the draft part)."""

    TEXT = "text"  # its text was read
    NO_TEXT = "no_text"  # a PDF without a text layer: a scan
    NOT_CONVERTED = "not_converted"  # .doc/.wps and no LibreOffice to convert it


class Refusal(StrEnum):
    """Why a document is not taken at all (the submitter is told, nothing is stored)."""

    TOO_BIG = "too_big"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_MUCH_TEXT = "too_much_text"
    ZIP_BOMB = "zip_bomb"
    MACRO = "macro"
    ENCRYPTED = "encrypted"
    ACTIVE_CONTENT = "active_content"
    BROKEN = "broken"
    TIMEOUT = "timeout"


REFUSAL_MESSAGES: dict[Refusal, str] = {
    Refusal.TOO_BIG: N_("文件过大（{size} MB），送审文件不能超过 {max} MB。"),
    Refusal.TOO_MANY_PAGES: N_(
        "文件页数过多（{pages} 页），送审文件不能超过 {max} 页，请拆分后发送。"
    ),
    Refusal.TOO_MUCH_TEXT: N_("文件文字过多，送审文件不能超过 {max} 字，请拆分后发送。"),
    Refusal.ZIP_BOMB: N_(
        "文件内部结构异常（解压后体积过大或部件过多），为安全起见不予读取。"
        "请用 Word 另存为 .docx 后重新发送。"
    ),
    Refusal.MACRO: N_("文件含有宏（VBA），为安全起见不予接收。请另存为不含宏的 .docx 后重新发送。"),
    Refusal.ENCRYPTED: N_("文件已加密或设置了打开密码，无法读取。请取消密码后重新发送。"),
    Refusal.ACTIVE_CONTENT: N_(
        "PDF 文件含有脚本或自动执行的动作，为安全起见不予接收。请重新导出为普通 PDF 后发送。"
    ),
    Refusal.BROKEN: N_("文件无法打开，可能已损坏或不是所标明的格式。请检查后重新发送。"),
    Refusal.TIMEOUT: N_("文件过于复杂，{seconds} 秒内未能读取完毕。请简化或拆分后重新发送。"),
}

#: Why a document's text was not pre-checked, by the rule of its finding.
UNREADABLE_RULES: dict[str, str] = {
    "draft.scanned": N_("扫描件（没有文字层），无法自动预检，需人工审核全文"),
    "draft.image_pages": N_("{pages}为图片（没有文字层），这些页需人工审核"),
    "draft.unconverted": N_("旧版格式（.doc/.wps），本机无法转换，无法自动预检，需人工审核全文"),
    "draft.not_read": N_("提交时系统尚不读取文件内容，未经自动预检，需人工审核全文"),
}


@dataclass(frozen=True, slots=True)
class Place:
    """A place in a draft: which file, and where in it (numbers as :data:`SPOT_LABELS` use)."""

    spot: Spot
    file: str = ""
    a: int = 0
    b: int = 0
    c: int = 0

    def label(self, tr: Translate = untranslated) -> str:
        """``活动方案.docx 表1第2行第1列`` in the reader's language."""
        where = tr(SPOT_LABELS[self.spot]).format(a=self.a, b=self.b, c=self.c)
        if self.spot in (Spot.HEADER, Spot.FOOTER) and self.a > 1:
            where += str(self.a)
        if self.spot == Spot.FILE:
            return self.file
        return f"{self.file} {where}".strip()

    def to_dict(self) -> dict[str, Any]:
        return {"spot": self.spot.value, "file": self.file, "a": self.a, "b": self.b, "c": self.c}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Place | None:
        if not raw:
            return None
        try:
            spot = Spot(str(raw.get("spot")))
        except ValueError:
            return None
        return cls(spot, str(raw.get("file") or ""), *(int(raw.get(k) or 0) for k in "abc"))


@dataclass(frozen=True, slots=True)
class Segment:
    place: Place
    text: str


@dataclass(frozen=True, slots=True)
class DocText:
    """What was read from one document: its text by place, or why it could not be read."""

    readable: Readable
    segments: tuple[Segment, ...] = ()
    pages: int = 0
    image_pages: tuple[int, ...] = ()  # PDF pages that are pictures only

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.segments)

    def to_json(self) -> dict[str, Any]:
        return {
            "readable": self.readable.value,
            "pages": self.pages,
            "image_pages": list(self.image_pages),
            "segments": [
                [s.place.spot.value, s.place.a, s.place.b, s.place.c, s.text] for s in self.segments
            ],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DocText:
        segments = []
        for spot, a, b, c, text in raw.get("segments") or ():
            segments.append(Segment(Place(Spot(spot), "", int(a), int(b), int(c)), str(text)))
        return cls(
            Readable(raw.get("readable") or Readable.TEXT),
            tuple(segments),
            int(raw.get("pages") or 0),
            tuple(int(p) for p in raw.get("image_pages") or ()),
        )


@dataclass(frozen=True, slots=True)
class Piece:
    """One message of a draft: its text or caption, and the document it carried if any."""

    text: str | None = None
    file_name: str | None = None
    document: DocText | None = None


@dataclass(frozen=True, slots=True)
class Unread:
    """A document (or some of its pages) whose text the pre-check could not read."""

    start: int
    end: int
    rule: str
    place: Place
    pages: str = ""  # the picture-only pages, "3、4"


@dataclass(frozen=True, slots=True)
class Composed:
    """The body of a draft and the places its spans came from (offsets into ``body``)."""

    body: str
    spans: tuple[tuple[int, int, Place], ...] = ()
    unread: tuple[Unread, ...] = ()

    def place_at(self, offset: int) -> Place | None:
        """The place of the text at ``offset`` of the body; None for a plain message."""
        for start, end, place in self.spans:
            if start <= offset < end or (start == end == offset):
                return place
        return None


HEADER = "【文件：{name}】"
SEPARATOR = "\n\n"


def compose(pieces: Iterable[Piece]) -> Composed:
    """The body: each message's text, then each document's header and text by place."""
    body: list[str] = []
    spans: list[tuple[int, int, Place]] = []
    unread: list[Unread] = []
    length = 0

    def add(text: str) -> int:
        nonlocal length
        if body:
            body.append(SEPARATOR)
            length += len(SEPARATOR)
        start = length
        body.append(text)
        length += len(text)
        return start

    for piece in pieces:
        caption = (piece.text or "").strip()
        if caption:
            add(caption)
        if piece.document is None:
            continue
        name = piece.file_name or ""
        header = HEADER.format(name=name)
        start = add(header)
        whole = Place(Spot.FILE, name)
        spans.append((start, start + len(header), whole))
        doc = piece.document
        if doc.readable == Readable.NO_TEXT:
            unread.append(Unread(start, start + len(header), "draft.scanned", whole))
        elif doc.readable == Readable.NOT_CONVERTED:
            unread.append(Unread(start, start + len(header), "draft.unconverted", whole))
        elif doc.image_pages:
            pages = "、".join(str(p) for p in doc.image_pages)
            unread.append(Unread(start, start + len(header), "draft.image_pages", whole, pages))
        for segment in doc.segments:
            text = segment.text.strip()
            if not text:
                continue
            at = add(text)
            place = Place(
                segment.place.spot, name, segment.place.a, segment.place.b, segment.place.c
            )
            spans.append((at, at + len(text), place))
    return Composed("".join(body), tuple(spans), tuple(unread))


def unread_reason(rule: str, pages: str | None = None, tr: Translate = untranslated) -> str:
    """Why a document was not pre-checked, in the reader's language (``pages``: "3、4")."""
    template = UNREADABLE_RULES.get(rule)
    if template is None:
        return tr(N_("无法自动预检，需人工审核"))
    shown = tr(N_("第 {pages} 页")).format(pages=pages) if pages else ""
    return tr(template).format(pages=shown)


def locate(composed: Composed, findings: list[Finding], *, offset: int) -> list[Place | None]:
    """Each finding's place; ``offset`` is where the body starts in the checked text."""
    return [composed.place_at(f.start - offset) if f.start >= offset else None for f in findings]
