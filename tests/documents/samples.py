"""Draft files made in the tests: a .docx with tables, notes, comments and tracked changes
(python-docx for the body, hand-written WordprocessingML for the parts it has no API for), a
PDF with a text layer (a Type0 font whose ToUnicode map carries the Chinese text), an
image-only PDF (a scan), a zip bomb and a macro document."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from docx import Document

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
ID_NUMBER = "110101199003074514"
GAMBLING_URL = "https://www.8888bet-casino.com/register"


def _notes(tag: str, notes: list[str], links: bool = False) -> bytes:
    body = [
        f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{tag}>',
        f'<w:{tag} w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        f"<w:continuationSeparator/></w:r></w:p></w:{tag}>",
    ]
    for n, text in enumerate(notes, 1):
        link = (
            f'<w:hyperlink r:id="rIdLink{n}"><w:r><w:t>点击查看</w:t></w:r></w:hyperlink>'
            if links
            else ""
        )
        body.append(
            f'<w:{tag} w:id="{n}"><w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r>'
            f"{link}</w:p></w:{tag}>"
        )
    root = "footnotes" if tag == "footnote" else "endnotes"
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:{root} xmlns:w="{W_NS}" xmlns:r="{R_NS}">{"".join(body)}</w:{root}>'
    ).encode()


def _comments(comments: list[str]) -> bytes:
    body = "".join(
        f'<w:comment w:id="{n}" w:author="审稿人"><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
        f"</w:comment>"
        for n, text in enumerate(comments)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:comments xmlns:w="{W_NS}">{body}</w:comments>'
    ).encode()


def make_docx(
    *,
    paragraphs: list[str] = (),  # type: ignore[assignment]
    table: list[list[str]] | None = None,
    footnotes: list[str] = (),  # type: ignore[assignment]
    footnote_links: list[str] = (),  # type: ignore[assignment]
    comments: list[str] = (),  # type: ignore[assignment]
    header: str | None = None,
    footer: str | None = None,
    inserted: str | None = None,
    deleted: str | None = None,
    macro: bool = False,
    pages: int | None = None,
) -> bytes:
    """A real .docx as Word saves one; the tracked insertion/deletion go into a last paragraph."""
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if table:
        grid = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    if header is not None:
        doc.sections[0].header.paragraphs[0].text = header
    if footer is not None:
        doc.sections[0].footer.paragraphs[0].text = footer
    tracked = bool(inserted or deleted)
    if tracked or footnotes:
        doc.add_paragraph("MARKER-PARAGRAPH")
    buffer = io.BytesIO()
    doc.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml" and (tracked or footnotes):
                data = _mark_up(data, inserted, deleted, bool(footnotes))
            elif item.filename == "[Content_Types].xml":
                data = _types(data, footnotes=bool(footnotes), comments=bool(comments))
                if macro:
                    data = data.replace(
                        b"wordprocessingml.document.main+xml",
                        b"ms-word.document.macroEnabled.main+xml",
                    )
            elif item.filename == "word/_rels/document.xml.rels":
                data = _rels(data, footnotes=bool(footnotes), comments=bool(comments))
            elif item.filename == "docProps/app.xml" and pages is not None:
                data = re.sub(rb"<Pages>\d+</Pages>", f"<Pages>{pages}</Pages>".encode(), data)
            target.writestr(item, data)
        if footnotes:
            target.writestr(
                "word/footnotes.xml", _notes("footnote", list(footnotes), bool(footnote_links))
            )
            if footnote_links:
                rels = "".join(
                    f'<Relationship Id="rIdLink{n}" Type="{REL}/hyperlink" Target="{url}" '
                    f'TargetMode="External"/>'
                    for n, url in enumerate(footnote_links, 1)
                )
                target.writestr(
                    "word/_rels/footnotes.xml.rels",
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
                    f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
                    "</Relationships>",
                )
        if comments:
            target.writestr("word/comments.xml", _comments(list(comments)))
        if macro:
            target.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 fake vba")
    return out.getvalue()


def _mark_up(xml: bytes, inserted: str | None, deleted: str | None, footnote: bool) -> bytes:
    runs = '<w:r><w:t xml:space="preserve">修订段：</w:t></w:r>'
    if inserted:
        runs += (
            f'<w:ins w:id="91" w:author="编辑" w:date="2026-01-01T00:00:00Z"><w:r>'
            f'<w:t xml:space="preserve">{inserted}</w:t></w:r></w:ins>'
        )
    if deleted:
        runs += (
            f'<w:del w:id="92" w:author="编辑" w:date="2026-01-01T00:00:00Z"><w:r>'
            f"<w:delText>{deleted}</w:delText></w:r></w:del>"
        )
    if footnote:
        runs += '<w:r><w:footnoteReference w:id="1"/></w:r>'
    text = xml.decode()
    marker = "<w:r><w:t>MARKER-PARAGRAPH</w:t></w:r>"
    assert marker in text, text[-500:]
    return text.replace(marker, runs).encode()


def _types(xml: bytes, *, footnotes: bool, comments: bool) -> bytes:
    extra = ""
    base = "application/vnd.openxmlformats-officedocument.wordprocessingml"
    if footnotes:
        extra += f'<Override PartName="/word/footnotes.xml" ContentType="{base}.footnotes+xml"/>'
    if comments:
        extra += f'<Override PartName="/word/comments.xml" ContentType="{base}.comments+xml"/>'
    return xml.replace(b"</Types>", extra.encode() + b"</Types>")


def _rels(xml: bytes, *, footnotes: bool, comments: bool) -> bytes:
    extra = ""
    if footnotes:
        extra += f'<Relationship Id="rIdFn" Type="{REL}/footnotes" Target="footnotes.xml"/>'
    if comments:
        extra += f'<Relationship Id="rIdCm" Type="{REL}/comments" Target="comments.xml"/>'
    return xml.replace(b"</Relationships>", extra.encode() + b"</Relationships>")


# --- PDF -------------------------------------------------------------------------------------


def _pdf(objects: list[bytes]) -> bytes:
    """Objects 1..n laid out with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _stream(data: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(data)
    return (
        f"<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n".encode()
        + packed
        + b"\nendstream"
    )


def make_pdf(pages: list[str], *, links: dict[int, str] | None = None) -> bytes:
    """A PDF whose pages show ``pages`` (one line each) in a Type0 font; text is extractable
    through the font's ToUnicode map (glyph n is the text's n-th distinct character).
    ``links``: page index -> the address of a link annotation over the page's text."""
    links = links or {}
    chars = sorted({ch for page in pages for ch in page})
    cid = {ch: n + 1 for n, ch in enumerate(chars)}
    cmap_lines = "\n".join(f"<{cid[ch]:04X}> <{ord(ch):04X}>" for ch in chars if ord(ch) <= 0xFFFF)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n{cmap_lines}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    count = len(pages)
    # 1 catalog, 2 pages, 3 font, 4 descendant, 5 tounicode, then (page, content) pairs
    kids = " ".join(f"{6 + 2 * n} 0 R" for n in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        _stream(cmap),
    ]
    annotations = {page: 6 + 2 * count + k for k, page in enumerate(sorted(links))}
    for n, text in enumerate(pages):
        hexed = "".join(f"{cid[ch]:04X}" for ch in text)
        content = f"BT /F1 12 Tf 40 760 Td <{hexed}> Tj ET".encode()
        annots = f"/Annots [{annotations[n]} 0 R] " if n in annotations else ""
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] {annots}"
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {7 + 2 * n} 0 R >>".encode()
        )
        objects.append(_stream(content))
    for page in sorted(links):
        objects.append(
            f"<< /Type /Annot /Subtype /Link /Rect [40 750 300 775] /Border [0 0 0] "
            f"/A << /S /URI /URI ({links[page]}) >> >>".encode()
        )
    return _pdf(objects)


def make_scanned_pdf(pages: int = 2) -> bytes:
    """A PDF of pictures only: each page one grey image, no text operator anywhere."""
    kids = " ".join(f"{3 + 2 * n} 0 R" for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
    ]
    image = 3 + 2 * pages
    for n in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
            f"<< /XObject << /Im1 {image} 0 R >> >> /Contents {4 + 2 * n} 0 R >>".encode()
        )
        objects.append(_stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q"))
    objects.append(
        _stream(
            bytes(range(256)) * 4,
            "/Type /XObject /Subtype /Image /Width 32 /Height 32 /ColorSpace /DeviceGray "
            "/BitsPerComponent 8 ",
        )
    )
    return _pdf(objects)


def make_zip_bomb() -> bytes:
    """A .docx-looking zip whose one member unpacks 20 MB from about twenty kilobytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(20):
                member.write(chunk)
    return out.getvalue()
