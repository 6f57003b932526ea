"""An HTML page's bytes as text: BOM, then the HTTP header's charset, then ``<meta>``, each
taken only if the bytes decode cleanly under it; then UTF-8; then charset-normalizer's guess;
GB18030 (with replacement characters) as the last resort.

GB2312 and GBK are read as GB18030, their superset: pages that declare GB2312 routinely use
GBK-only characters (人名、地名 rare characters) and a strict GB2312 decode would fail them.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE | re.DOTALL
)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "ascii": "utf-8", "latin-1": "cp1252"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF = 4096
_GUESS_BYTES = 64 * 1024


def codec_name(label: str | None) -> str | None:
    """Python's name for a charset label (``GB2312`` → ``gb18030``), ``None`` if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _strict(body: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """``(text, encoding)``: never raises; undecodable bytes become U+FFFD at worst."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), encoding.removesuffix("-sig")
    header_match = _CHARSET.search(content_type or "")
    header = codec_name(header_match.group(1)) if header_match else None
    meta_match = _META_CHARSET.search(body[:_SNIFF])
    meta = codec_name(meta_match.group(1).decode("ascii", "replace")) if meta_match else None
    for declared in (header, meta, "utf-8"):
        text = _strict(body, declared)
        if text is not None and declared is not None:
            return text, declared
    for declared in (header, meta):
        if declared is not None:
            text = body.decode(declared, errors="replace")
            if text.count("\ufffd") * 200 <= len(text):  # a cut-off or a stray bad byte
                return text, declared
    guess = from_bytes(body[:_GUESS_BYTES]).best()
    guessed = codec_name(guess.encoding) if guess is not None else None
    if guessed is not None and guessed not in ("utf-16", "utf-32"):
        return body.decode(guessed, errors="replace"), guessed
    fallback = meta or header or "gb18030"
    return body.decode(fallback, errors="replace"), fallback
