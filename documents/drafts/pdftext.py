"""A PDF's text layer, page by page, with pypdf (pure Python, BSD-licensed, maintained); the
targets of link annotations are added after the page's text, as a .docx's hyperlinks are.

A page without text but with pictures is a scanned page: a PDF that is all such pages has no
text layer (:attr:`Readable.NO_TEXT`, "扫描件，需人工审核"); one with some of them names those
pages, so the approver knows what the pre-check did not read. Encrypted files that do not open
with an empty password, files with scripts or launch actions, and files over the page limit are
refused before any page is read.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from documents.drafts.safety import Refused, check_pdf_bytes
from governance.drafttext import DocText, Place, Readable, Refusal, Segment, Spot


def _has_images(page: Any) -> bool:
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        if not resources or "/XObject" not in resources:
            return False
        objects = resources["/XObject"].get_object()
        return any(
            ref.get_object().get("/Subtype") in ("/Image", "/Form") for ref in objects.values()
        )
    except Exception:  # a page whose resources do not resolve: judged by its text alone
        return False


def _link_targets(page: Any) -> list[str]:
    """Addresses of the page's link annotations: the words shown may hide where they go."""
    found = []
    try:
        annotations = page.get("/Annots")
        for ref in annotations.get_object() if annotations is not None else ():
            annotation = ref.get_object()
            action = annotation.get("/A")
            action = action.get_object() if action is not None else None
            if annotation.get("/Subtype") == "/Link" and action and "/URI" in action:
                found.append(str(action["/URI"]))
    except Exception:  # a malformed annotation costs its links, not the page's text
        return found
    return found


def read_pdf(data: bytes, *, max_pages: int, max_chars: int) -> DocText:
    check_pdf_bytes(data)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings about sloppy files are noise
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))
            except (PyPdfError, NotImplementedError):
                opened = False
            if not opened:
                raise Refused(Refusal.ENCRYPTED)
        count = len(reader.pages)
        if count > max_pages:
            raise Refused(Refusal.TOO_MANY_PAGES, pages=count, max=max_pages)
        segments: list[Segment] = []
        image_pages: list[int] = []
        chars = 0
        for number, page in enumerate(reader.pages, 1):
            text = (page.extract_text() or "").strip()
            hidden = [url for url in _link_targets(page) if url not in text]
            if hidden:
                text = "\n".join([text, *(f"（{url}）" for url in hidden)]).strip()
            if not text:
                if _has_images(page):
                    image_pages.append(number)
                continue
            chars += len(text)
            if chars > max_chars:
                raise Refused(Refusal.TOO_MUCH_TEXT, max=max_chars)
            segments.append(Segment(Place(Spot.PAGE, a=number), text))
    except Refused:
        raise
    except Exception:  # PdfReadError, or any error pypdf meets hostile input with
        raise Refused(Refusal.BROKEN) from None
    if not segments:
        return DocText(Readable.NO_TEXT, pages=count, image_pages=tuple(image_pages))
    return DocText(Readable.TEXT, tuple(segments), pages=count, image_pages=tuple(image_pages))
