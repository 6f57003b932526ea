"""``python -m bot …`` run in the test process: the same ``main(argv)``, with the environment,
working directory and standard streams of a fresh process, and its exit status.

Starting a Python process costs seconds (aiogram, SQLAlchemy, openpyxl imports); the behaviour
under test is the command's, so one real process test is kept (tests/e2e/test_process.py) and
the others call ``main`` here. Logging is put back as it was afterwards, since the command
configures it for its (here: borrowed) process.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from bot.__main__ import main


@dataclass(frozen=True)
class CliResult:
    """What a finished ``python -m bot …`` left behind."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _process_state(env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    """The environment and working directory of the command; restored on the way out."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        logger.remove()
        logger.add(sys.stderr)


def run_cli(
    *argv: str,
    env: Mapping[str, str],
    cwd: Path,
    stdin: str = "",
    merge_stderr: bool = False,
) -> CliResult:
    """Run ``python -m bot *argv`` in this process; ``merge_stderr`` as ``2>&1`` would.

    Commands run their own event loop (``asyncio.run``): from an async test, call this through
    ``asyncio.to_thread`` so the test's servers keep answering meanwhile.
    """
    out, err = io.StringIO(), io.StringIO()
    with (
        _process_state(env, cwd),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out if merge_stderr else err),
    ):
        saved_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse, or a command that exits
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdin = saved_stdin
    return CliResult(code, out.getvalue(), err.getvalue())
