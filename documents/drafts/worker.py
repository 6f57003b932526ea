"""The child process that reads one draft file: ``python -m documents.drafts.worker``.

Standard input is one JSON line (file name and limits) followed by the file's bytes; standard
output is one JSON object: ``{"text": ...}`` (a :class:`~governance.drafttext.DocText`) or
``{"refused": reason, "params": {...}}``. A process of its own so a hostile file can be killed
at its deadline (a thread cannot be) and its memory is capped (``RLIMIT_AS``) without touching
the bot; LibreOffice, when a legacy file needs it, runs in the same process group and is
killed with it.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

from documents.drafts.reader import Limits, read_document
from documents.drafts.safety import OLE_MAGIC, Refused
from governance.drafttext import Refusal

MEMORY_LIMIT = 2 * 1024 * 1024 * 1024


def _cap(limits: Limits, data: bytes) -> None:
    cpu = int(limits.timeout) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    if not data.startswith((OLE_MAGIC, b"{\\rtf")):  # LibreOffice needs more address space
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def main() -> int:
    header = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read()
    limits = Limits(
        max_bytes=int(header["max_bytes"]),
        max_pages=int(header["max_pages"]),
        max_chars=int(header["max_chars"]),
        timeout=float(header["timeout"]),
    )
    _cap(limits, data)
    answer: dict[str, Any]
    try:
        answer = {"text": read_document(data, str(header["name"]), limits).to_json()}
    except Refused as refused:
        answer = {"refused": refused.reason.value, "params": refused.params}
    except (MemoryError, RecursionError):
        answer = {"refused": Refusal.ZIP_BOMB.value, "params": {}}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
