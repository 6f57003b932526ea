"""What is checked about an uploaded draft file before anything reads it.

A .docx is a zip: its members are listed (the central directory only) and the file is refused
when they are too many, would unpack to too much, or one of them is compressed beyond any
real document's ratio (a zip bomb), all before a single member is decompressed. Reading later
goes through :func:`read_member`, which stops at the declared size whatever the member claims.
A document with macros (``vbaProject.bin``, a macro-enabled content type) or an encrypted one
(Office encryption wraps the zip in an OLE container with an ``EncryptionInfo`` stream) is
refused. PDF: encrypted files that do not open with an empty password and files with scripts
or launch actions are refused. XML is parsed without entities or network access.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from lxml import etree

from governance.drafttext import Refusal

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"


class Refused(Exception):
    """The file is not read; ``reason`` says why, ``params`` fill its message."""

    def __init__(self, reason: Refusal, **params: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.params = params


@dataclass(frozen=True, slots=True)
class ZipLimits:
    members: int = 2_000
    total_bytes: int = 200 * 1024 * 1024  # all members unpacked
    member_bytes: int = 100 * 1024 * 1024
    ratio: int = 200  # unpacked / packed for one sizeable member
    ratio_floor: int = 1024 * 1024  # members smaller than this may compress as they like


def utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def ole_kind(data: bytes) -> str:
    """For an OLE compound file: ``encrypted`` (Office-encrypted OOXML), ``macro`` (a legacy
    file with a VBA project) or ``legacy`` (.doc/.wps). The directory entry names are UTF-16."""
    if utf16("EncryptionInfo") in data or utf16("EncryptedPackage") in data:
        return "encrypted"
    if utf16("_VBA_PROJECT") in data or utf16("Macros") in data:
        return "macro"
    return "legacy"


def check_zip(archive: zipfile.ZipFile, limits: ZipLimits) -> None:
    """Refuse a zip bomb from its directory alone: count, total and ratio of the members."""
    infos = archive.infolist()
    if len(infos) > limits.members:
        raise Refused(Refusal.ZIP_BOMB)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise Refused(Refusal.ENCRYPTED)
        size = info.file_size
        total += size
        if size > limits.member_bytes or total > limits.total_bytes:
            raise Refused(Refusal.ZIP_BOMB)
        if size > limits.ratio_floor and size > limits.ratio * max(info.compress_size, 1):
            raise Refused(Refusal.ZIP_BOMB)


def check_macros(archive: zipfile.ZipFile) -> None:
    names = [n.lower() for n in archive.namelist()]
    if any(n.endswith(("vbaproject.bin", "vbadata.xml")) for n in names):
        raise Refused(Refusal.MACRO)
    if "[content_types].xml" in names:
        types = read_member(archive, "[Content_Types].xml", 1024 * 1024)
        if b"macroEnabled" in types or b"vbaProject" in types:
            raise Refused(Refusal.MACRO)


def read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, never more than ``limit`` (the directory may lie about sizes)."""
    try:
        with archive.open(name) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError):
        raise Refused(Refusal.BROKEN) from None
    except NotImplementedError:  # a compression method zipfile does not have
        raise Refused(Refusal.BROKEN) from None
    if len(data) > limit:
        raise Refused(Refusal.ZIP_BOMB)
    return data


def open_zip(data: bytes, limits: ZipLimits) -> zipfile.ZipFile:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        raise Refused(Refusal.BROKEN) from None
    check_zip(archive, limits)
    check_macros(archive)
    return archive


PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False
)


def parse_xml(data: bytes) -> Any:
    """An XML part parsed safely (no entities, no network, lxml's default size guards)."""
    try:
        return etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError:
        raise Refused(Refusal.BROKEN) from None


def check_pdf_bytes(data: bytes) -> None:
    """Scripts and launch actions make a PDF active content: refused whatever else it holds."""
    for marker in (b"/JavaScript", b"/JS ", b"/JS(", b"/JS<", b"/Launch"):
        if marker in data:
            raise Refused(Refusal.ACTIVE_CONTENT)
