"""Reading a draft file off the event loop, as the bot does it.

:func:`extract` runs :mod:`~documents.drafts.reader` in a child process
(:mod:`~documents.drafts.worker`) off the event loop, killed at its deadline; a file that is
not taken (too big, too many pages, a zip bomb, macros, encryption, scripts, broken, too slow)
becomes :class:`~governance.errors.InvalidInput` with a message saying why; a reader that
fails for any other reason is an unexpected error (logged with a reference number), never
blamed on the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import Any

from documents.drafts.reader import Limits
from governance.drafttext import REFUSAL_MESSAGES, DocText, Refusal
from governance.errors import InvalidInput


def refusal(reason: str, params: dict[str, Any] | None = None) -> InvalidInput:
    try:
        known = Refusal(reason)
    except ValueError:
        known = Refusal.BROKEN
    return InvalidInput(REFUSAL_MESSAGES[known], **(params or {}))


#: What the reader needs of the bot's environment; the rest (the bot token, database and proxy
#: passwords) never reaches the process that parses untrusted files.
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


def child_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in PASSED_ON if name in os.environ}


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def extract(data: bytes, file_name: str, limits: Limits) -> DocText:
    """The document's text by place, read in a child process within ``limits.timeout``
    seconds (its start included)."""
    if len(data) > limits.max_bytes:
        raise refusal(
            Refusal.TOO_BIG,
            {"size": f"{len(data) / 1024 / 1024:.1f}", "max": limits.max_bytes // 1024 // 1024},
        )
    header = {
        "name": file_name,
        "max_bytes": limits.max_bytes,
        "max_pages": limits.max_pages,
        "max_chars": limits.max_chars,
        "timeout": limits.timeout,
    }
    payload = json.dumps(header).encode() + b"\n" + data
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "documents.drafts.worker",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # LibreOffice, if started, is killed with it
        env=child_environment(),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(payload), timeout=limits.timeout)
    except TimeoutError:
        _kill(process)
        await process.wait()
        raise refusal(Refusal.TIMEOUT, {"seconds": int(limits.timeout)}) from None
    finally:
        if process.returncode is None:
            _kill(process)
            await process.wait()
    try:
        answer = json.loads(out)
    except ValueError:
        if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # its CPU limit
            raise refusal(Refusal.TIMEOUT, {"seconds": int(limits.timeout)}) from None
        if process.returncode == -signal.SIGSEGV:  # a parser's C code gave up on the file
            raise refusal(Refusal.BROKEN) from None
        tail = err[-2000:].decode(errors="replace")
        raise RuntimeError(f"draft reader exited {process.returncode}: {tail}") from None
    if "refused" in answer:
        raise refusal(str(answer["refused"]), answer.get("params"))
    return DocText.from_json(answer["text"])


class DraftReader:
    """The bot's one reader of draft files: its limits, and at most ``concurrency`` children
    at a time (an album of ten documents must not start ten readers on a two-core host).
    Made once in ``build_dispatcher`` and injected into handlers as ``drafts``."""

    def __init__(self, *, limits: Limits, concurrency: int = 2) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.limits = limits
        self._slots = asyncio.Semaphore(concurrency)

    async def read(self, data: bytes, file_name: str) -> DocText:
        async with self._slots:
            return await extract(data, file_name, self.limits)
