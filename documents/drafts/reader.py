"""One uploaded draft file to :class:`~governance.drafttext.DocText`, by what its bytes are.

The first bytes decide, not the name: a zip is WordprocessingML (checked by
:mod:`~documents.drafts.safety` first), an OLE compound file is encrypted Office, a legacy file
with macros or a legacy .doc/.wps, ``%PDF-`` is a PDF, ``{\\rtf`` is converted like a legacy
file. Legacy files go through LibreOffice headless (``--convert-to docx``, its own temporary
directory and profile, a timeout); without LibreOffice they are taken but marked
:attr:`Readable.NOT_CONVERTED`, which the pre-check reports as needing manual review.

Blocking and CPU-bound: :mod:`documents.drafts.worker` runs it in a child process.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from documents.drafts.safety import (
    OLE_MAGIC,
    PDF_MAGIC,
    ZIP_MAGIC,
    Refused,
    ZipLimits,
    ole_kind,
    open_zip,
)
from documents.drafts.wordml import read_docx
from documents.pdf import converter
from governance.drafttext import DocText, Readable, Refusal


@dataclass(frozen=True, slots=True)
class Limits:
    """What a draft file may be: bytes, pages, characters, seconds to read it."""

    max_bytes: int = 20 * 1024 * 1024  # the Bot API serves bot downloads up to 20 MB
    max_pages: int = 300
    max_chars: int = 200_000
    timeout: float = 60.0
    zip: ZipLimits = field(default_factory=ZipLimits)


def convert_legacy(data: bytes, *, suffix: str, timeout: float) -> bytes | None:
    """A .doc/.wps/.rtf as .docx via LibreOffice; None without LibreOffice. A failed
    conversion is a broken (or password-protected) file."""
    program = converter()
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="gov-draft-") as tmp:
        folder = Path(tmp)
        source = folder / f"draft{suffix}"
        source.write_bytes(data)
        out = folder / "out"
        command = [
            program,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            raise Refused(Refusal.TIMEOUT, seconds=int(timeout)) from None
        except (OSError, subprocess.SubprocessError):
            raise Refused(Refusal.BROKEN) from None
        target = out / "draft.docx"
        if not target.exists():
            raise Refused(Refusal.BROKEN)
        return target.read_bytes()


def read_document(data: bytes, file_name: str, limits: Limits) -> DocText:
    """The text of one draft file by place; :class:`Refused` says why a file is not taken."""
    if len(data) > limits.max_bytes:
        raise Refused(
            Refusal.TOO_BIG,
            size=f"{len(data) / 1024 / 1024:.1f}",
            max=limits.max_bytes // 1024 // 1024,
        )
    suffix = Path(file_name.lower()).suffix or ".doc"
    if data.startswith(ZIP_MAGIC):
        return _docx(data, limits)
    if data.startswith(OLE_MAGIC):
        kind = ole_kind(data)
        if kind == "encrypted":
            raise Refused(Refusal.ENCRYPTED)
        if kind == "macro":
            raise Refused(Refusal.MACRO)
        return _legacy(data, ".wps" if suffix == ".wps" else ".doc", limits)
    if PDF_MAGIC in data[:1024]:
        from documents.drafts.pdftext import read_pdf  # pypdf only when a PDF comes

        return read_pdf(data, max_pages=limits.max_pages, max_chars=limits.max_chars)
    if data.startswith(b"{\\rtf"):
        return _legacy(data, ".rtf", limits)
    raise Refused(Refusal.BROKEN)


def _docx(data: bytes, limits: Limits) -> DocText:
    with open_zip(data, limits.zip) as archive:
        return read_docx(archive, max_pages=limits.max_pages, max_chars=limits.max_chars)


def _legacy(data: bytes, suffix: str, limits: Limits) -> DocText:
    converted = convert_legacy(data, suffix=suffix, timeout=limits.timeout)
    if converted is None:
        return DocText(Readable.NOT_CONVERTED)
    if not converted.startswith(ZIP_MAGIC):
        raise Refused(Refusal.BROKEN)
    return _docx(converted, limits)
