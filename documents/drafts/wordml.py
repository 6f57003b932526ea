""".docx text by place: body paragraphs and tables, text boxes, headers and footers,
footnotes and endnotes, comments; tracked insertions read as the text will stand, deletions
left out; hyperlink targets written after their text (a link's address is what a gambling
takeover changes, and Word shows only the words).

The parts are read from the zip directly (after :mod:`documents.drafts.safety` checked it):
python-docx's paragraph text skips runs inside ``w:ins`` and it has no API for footnotes,
endnotes or comments, so one walker over the WordprocessingML serves every part alike.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from documents.drafts.safety import Refused, parse_xml, read_member
from governance.drafttext import DocText, Place, Readable, Refusal, Segment, Spot

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
PART_MAX = 50 * 1024 * 1024


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


SKIP = {w("del"), w("moveFrom"), w("delText"), w("delInstrText"), f"{{{MC}}}Fallback"}
BREAKS = {w("br"): "\n", w("cr"): "\n", w("tab"): "\t", w("noBreakHyphen"): "-"}
NOTE_SKIP = {"separator", "continuationSeparator", "continuationNotice"}
_FIELD_LINK = re.compile(r'HYPERLINK\s+"([^"]+)"')


class Walker:
    """Text of paragraphs in one part, with text boxes collected apart."""

    def __init__(self, links: dict[str, str]) -> None:
        self.links = links
        self.textboxes: list[str] = []

    def paragraph(self, p: Any) -> str:
        out: list[str] = []
        self._walk(p, out)
        return "".join(out).strip()

    def _walk(self, node: Any, out: list[str]) -> None:
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIP:
                continue
            if tag == w("t"):
                out.append(child.text or "")
            elif tag in BREAKS:
                out.append(BREAKS[tag])
            elif tag == w("txbxContent"):
                box = [self.paragraph(p) for p in child.iter(w("p"))]
                self.textboxes.append("\n".join(t for t in box if t))
            elif tag == w("instrText"):
                found = _FIELD_LINK.search(child.text or "")
                if found:
                    out.append(f"（{found.group(1)}）")
            elif tag == w("fldSimple"):
                self._walk(child, out)
                found = _FIELD_LINK.search(child.get(w("instr")) or "")
                if found:
                    out.append(f"（{found.group(1)}）")
            elif tag == w("hyperlink"):
                start = len(out)
                self._walk(child, out)
                target = self.links.get(child.get(f"{{{R}}}id") or "")
                if target and target not in "".join(out[start:]):
                    out.append(f"（{target}）")
            else:
                self._walk(child, out)


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str, str]]:
    """A part's relationships: id -> (type, target, target mode)."""
    folder, name = posixpath.split(part)
    path = posixpath.join(folder, "_rels", f"{name}.rels")
    if path not in archive.namelist():
        return {}
    root = parse_xml(read_member(archive, path, PART_MAX))
    return {
        rel.get("Id", ""): (rel.get("Type", ""), rel.get("Target", ""), rel.get("TargetMode", ""))
        for rel in root.iter(f"{{{PKG}}}Relationship")
    }


def _links(rels: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    return {rid: target for rid, (kind, target, _) in rels.items() if kind.endswith("/hyperlink")}


def _target(part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def _main_part(archive: zipfile.ZipFile) -> str:
    for kind, target, _ in _rels(archive, "").values():
        if kind.endswith("/officeDocument"):
            return _target("", target)
    if "word/document.xml" in archive.namelist():
        return "word/document.xml"
    raise Refused(Refusal.BROKEN)


def _blocks(node: Any) -> Iterator[Any]:
    """Body-level paragraphs and tables in order (content controls opened)."""
    for child in node:
        if child.tag in (w("p"), w("tbl")):
            yield child
        elif child.tag in (w("sdt"), w("sdtContent"), w("customXml")):
            yield from _blocks(child)


def _table(walker: Walker, table: Any, number: int) -> Iterator[Segment]:
    rows = [r for r in table if r.tag == w("tr")]
    for row_no, row in enumerate(rows, 1):
        cells = [c for c in row.iter(w("tc")) if _owner_row(c) is row]
        for col_no, cell in enumerate(cells, 1):
            text = "\n".join(t for t in (walker.paragraph(p) for p in _own_paragraphs(cell)) if t)
            if text:
                yield Segment(Place(Spot.TABLE, a=number, b=row_no, c=col_no), text)


def _owner_row(cell: Any) -> Any:
    node = cell.getparent()
    while node is not None and node.tag != w("tr"):
        node = node.getparent()
    return node


def _own_paragraphs(cell: Any) -> Iterator[Any]:
    """A cell's paragraphs, nested tables' included (they belong to the outer cell)."""
    for p in cell.iter(w("p")):
        if not any(a.tag == w("txbxContent") for a in p.iterancestors()):
            yield p


def _body(archive: zipfile.ZipFile, part: str) -> Iterator[Segment]:
    root = parse_xml(read_member(archive, part, PART_MAX))
    body = root.find(w("body"))
    if body is None:
        raise Refused(Refusal.BROKEN)
    walker = Walker(_links(_rels(archive, part)))
    paragraphs = tables = 0
    for block in _blocks(body):
        if block.tag == w("tbl"):
            tables += 1
            yield from _table(walker, block, tables)
            continue
        text = walker.paragraph(block)
        if text:
            paragraphs += 1
            yield Segment(Place(Spot.PARAGRAPH, a=paragraphs), text)
    for number, text in enumerate((t for t in walker.textboxes if t), 1):
        yield Segment(Place(Spot.TEXTBOX, a=number), text)


def _whole_part(archive: zipfile.ZipFile, part: str) -> str:
    root = parse_xml(read_member(archive, part, PART_MAX))
    walker = Walker(_links(_rels(archive, part)))
    lines = [walker.paragraph(p) for p in root.iter(w("p"))]
    return "\n".join(t for t in lines if t)


def _notes(archive: zipfile.ZipFile, part: str, tag: str, spot: Spot) -> Iterator[Segment]:
    root = parse_xml(read_member(archive, part, PART_MAX))
    walker = Walker(_links(_rels(archive, part)))
    number = 0
    for note in root.iter(w(tag)):
        if note.get(w("type")) in NOTE_SKIP:
            continue
        number += 1
        text = "\n".join(t for t in (walker.paragraph(p) for p in note.iter(w("p"))) if t)
        if text:
            yield Segment(Place(spot, a=number), text)


def declared_pages(archive: zipfile.ZipFile) -> int:
    """The page count Word saved in docProps/app.xml (0 when absent)."""
    if "docProps/app.xml" not in archive.namelist():
        return 0
    root = parse_xml(read_member(archive, "docProps/app.xml", 1024 * 1024))
    pages = root.find(f"{{{EP}}}Pages")
    try:
        return int(pages.text) if pages is not None and pages.text else 0
    except ValueError:
        return 0


def read_docx(archive: zipfile.ZipFile, *, max_pages: int, max_chars: int) -> DocText:
    """Every piece of text of a checked .docx, by place, in reading order of the parts."""
    pages = declared_pages(archive)
    if pages > max_pages:
        raise Refused(Refusal.TOO_MANY_PAGES, pages=pages, max=max_pages)
    main = _main_part(archive)
    if main not in archive.namelist():
        raise Refused(Refusal.BROKEN)
    segments = list(_body(archive, main))
    rels = _rels(archive, main)
    names = set(archive.namelist())
    by_kind: dict[str, list[str]] = {}
    for kind, target, mode in rels.values():
        if mode != "External":
            part = _target(main, target)
            if part in names:
                by_kind.setdefault(kind.rsplit("/", 1)[-1], []).append(part)
    for kind, spot in (("header", Spot.HEADER), ("footer", Spot.FOOTER)):
        texts = [_whole_part(archive, p) for p in sorted(by_kind.get(kind, []), key=_natural)]
        unique = list(dict.fromkeys(t for t in texts if t))
        for number, text in enumerate(unique, 1):
            segments.append(Segment(Place(spot, a=number), text))
    for kind, tag, spot in (
        ("footnotes", "footnote", Spot.FOOTNOTE),
        ("endnotes", "endnote", Spot.ENDNOTE),
        ("comments", "comment", Spot.COMMENT),
    ):
        for part in by_kind.get(kind, []):
            segments.extend(_notes(archive, part, tag, spot))
    if sum(len(s.text) for s in segments) > max_chars:
        raise Refused(Refusal.TOO_MUCH_TEXT, max=max_chars)
    return DocText(Readable.TEXT, tuple(segments), pages=pages)


def _natural(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", posixpath.basename(name))
    return (int(digits[-1]) if digits else 0, name)
