"""How a post's visible text is stored in ``posts.body``: small, and readable in every format.

A body is one header byte naming its format, then the compressed text:

- ``0x78`` (format 0, what migration 0016 and the code before 0018 wrote): a whole zlib stream
  (``zlib.compress``, whose first byte is always ``0x78``) of the UTF-8 text. Still read; no
  longer written; such bodies age out within ``POST_BODY_DAYS``.
- ``0x01`` (format 1): raw deflate (no zlib header or checksum: 6 bytes less) of the text in
  GB18030, with the preset dictionary ``data/postbody-1.zdict``. GB18030 encodes every Unicode
  code point, Chinese in two bytes instead of UTF-8's three, which deflate's Huffman stage
  cannot fully make up for (≈ 17 % smaller output); the dictionary (common Chinese words and
  the fixed government formulations) gives the first few hundred characters of a post
  something to refer back to, which a 1-2 KB text otherwise lacks (≈ 15 % more). Together
  ≈ 30 % below format 0 on government text (``bench/post_storage.py``).

A new format takes the next header byte and its own dictionary file; a shipped dictionary is
never changed, since every body written with it needs exactly those bytes to be read.
"""

from __future__ import annotations

import zlib
from importlib import resources

_LEGACY = 0x78
_CURRENT = 0x01
_DICTIONARIES = {_CURRENT: resources.files("models").joinpath("data/postbody-1.zdict").read_bytes()}
#: A compressor already primed with the dictionary, never used itself: each body compresses
#: with a ``copy()`` of it (≈ 80 µs a 2 KB post, as against ≈ 120 µs when every body loads the
#: 32 KB dictionary afresh, and ≈ 60 µs for format 0).
_PRIMED = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=_DICTIONARIES[_CURRENT])


class UnknownBodyFormat(ValueError):
    """A body whose header byte names no format this code reads (written by newer code)."""


def compress_body(text: str) -> bytes | None:
    """The stored form of ``text`` in the current format; ``None`` for an empty text."""
    if not text:
        return None
    packer = _PRIMED.copy()
    return bytes([_CURRENT]) + packer.compress(text.encode("gb18030")) + packer.flush()


def expand_body(body: bytes | None) -> str:
    """The text of a stored body of any known format; ``""`` for none."""
    if not body:
        return ""
    if body[0] == _LEGACY:
        return zlib.decompress(body).decode()
    zdict = _DICTIONARIES.get(body[0])
    if zdict is None:
        raise UnknownBodyFormat(f"post body format {body[0]:#04x} is not known to this version")
    unpacker = zlib.decompressobj(-15, zdict=zdict)
    return (unpacker.decompress(body[1:]) + unpacker.flush()).decode("gb18030")
