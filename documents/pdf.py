"""Office documents to PDF with LibreOffice headless, where it is installed.

Nothing here is required: without ``soffice``/``libreoffice`` on PATH :func:`to_pdf` returns
None and callers send the .docx/.xlsx itself (with a message saying so). Each conversion runs in
its own temporary directory and LibreOffice profile, so two conversions never share a lock, and
is killed after ``timeout`` seconds. Blocking: call it in a worker thread.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from loguru import logger

CONVERTERS = ("soffice", "libreoffice")
_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")


def converter() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    for name in CONVERTERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def to_pdf(data: bytes, *, suffix: str, timeout: float = 120) -> bytes | None:
    """``data`` (a .docx or .xlsx, named by ``suffix``) as PDF; None when no converter exists or
    the conversion fails (logged)."""
    program = converter()
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="gov-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / f"document{suffix}"
        source.write_bytes(data)
        command = [
            program,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("PDF 转换失败（{}）：{}", program, exc)
            return None
        target = source.with_suffix(".pdf")
        return target.read_bytes() if target.exists() else None


def page_count(pdf: bytes) -> int:
    """Pages of a PDF, from its page tree's root ``/Count`` (the largest one)."""
    counts = [int(a or b) for a, b in _COUNT.findall(pdf)]
    return max(counts, default=0)
