"""A feed body made ready to parse: decoded as the document says, re-declared UTF-8, and cut to
the item cap; split from :mod:`feeds.feedparse`, which parses what this returns."""

from __future__ import annotations

import codecs
import re

# ---------------------------------------------------------------- decoding


CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_XML_DECL = re.compile(rb"^\s*<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([\w.:-]+)[\"']", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"(^\s*<\?xml\b[^>]*?\bencoding\s*=\s*[\"'])([\w.:-]+)", re.I)
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def normalise_encoding(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """Decode as declared (bad bytes replaced) or, undeclared, as UTF-8 then GB18030.

    Returns the body and headers to hand feedparser: unchanged when the body is valid UTF-8, is
    UTF-16/32, or declares another encoding feedparser handles; otherwise the text re-encoded as
    UTF-8 with the declaration and the charset saying so.
    """
    if body.startswith(_UTF16_32_BOMS):
        return body, headers
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body, headers
    content_type = headers.get("content-type", "")
    match = CHARSET.search(content_type)
    header = _codec(match.group(1)) if match else None
    decl_match = _XML_DECL.match(body[:1024])
    declaration = _codec(decl_match.group(1).decode("ascii")) if decl_match else None
    bom = "utf-8" if body.startswith(codecs.BOM_UTF8) else None
    declared = header or bom or declaration
    if declared is None:
        try:
            text = body.decode("gb18030")
        except UnicodeDecodeError:
            return body, headers  # neither: leave the guess to feedparser
        return _as_utf8(text, headers)
    if declared != "utf-8":
        return body, headers
    if header == "utf-8" and declaration not in (None, "utf-8"):
        try:  # the server says UTF-8, the document names its own encoding and is right
            return _as_utf8(body.decode(declaration), headers)
        except (UnicodeDecodeError, LookupError):
            pass
    return _as_utf8(body.decode("utf-8", errors="replace"), headers)


def _as_utf8(text: str, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    data = text.lstrip("\ufeff").encode("utf-8")
    data = _XML_DECL_ENCODING.sub(rb"\g<1>utf-8", data, count=1)
    mime = headers.get("content-type", "").split(";", 1)[0].strip() or "application/xml"
    return data, {**headers, "content-type": f"{mime}; charset=utf-8"}


# ---------------------------------------------------------------- the item cap

_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]", re.IGNORECASE)
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)[^>]*?(/?)>")
_SKIPPED = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![^>]*>", re.DOTALL)


def cap_items(body: bytes, max_items: int) -> bytes:
    """Cut the document before its item number ``max_items + 1`` and close what was open.

    The elements open at the first item
    (``rss``/``channel``, ``feed``, ``rdf:RDF``) are the ones open at every item, so they are
    closed in reverse order and the document stays well-formed for the fast strict parser.
    """
    starts = _ITEM_START.finditer(body)
    first = next(starts, None)
    if first is None:
        return body
    cut = None
    for count, match in enumerate(starts, start=2):
        if count > max_items:
            cut = match.start()
            break
    if cut is None:
        return body
    open_tags: list[bytes] = []
    for tag in _TAG.finditer(_SKIPPED.sub(b"", body[: first.start()])):
        closing, name, self_closing = tag.groups()
        if self_closing:
            continue
        if closing:
            if name in open_tags:
                del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name) :]
        else:
            open_tags.append(name)
    return body[:cut] + b"".join(b"</" + name + b">" for name in reversed(open_tags))
