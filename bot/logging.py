"""Logging through loguru, with the standard library's loggers routed into it.

The bot token must never reach a log: every formatted line (tracebacks included) passes
through a redacting sink before it is written.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from loguru import logger

HUMAN_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
    "<cyan>{name}</cyan>:<cyan>{function}</cyan> - <level>{message}</level>"
)


class InterceptHandler(logging.Handler):
    """Route aiogram, APScheduler, SQLAlchemy and aiohttp logging into loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame, depth = inspect.currentframe(), 0
        while frame and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (and its URL-encoded form) blanked out."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, "***")
    return text


def redacting_sink(
    secrets: list[str], write: Callable[[str], Any] = sys.stderr.write
) -> Callable[[Any], None]:
    """A sink that blanks every secret out of the finished line."""
    needles = [s for s in secrets if s]

    def sink(message: Any) -> None:
        write(redact(str(message), needles))

    return sink


def setup_logging(
    *,
    level: str = "INFO",
    json: bool = False,
    secrets: list[str] | None = None,
    write: Callable[[str], Any] | None = None,
) -> None:
    """Configure loguru once per process (the CLI calls this first)."""
    logger.remove()
    sink = redacting_sink(secrets or [], write or sys.stderr.write)
    if json:
        logger.add(sink, level=level, serialize=True, backtrace=False, diagnose=False)
    else:
        logger.add(sink, level=level, format=HUMAN_FORMAT, colorize=False, diagnose=False)
    logging.basicConfig(handlers=[InterceptHandler()], level=0, force=True)
    for noisy in (
        "aiosqlite",
        "asyncio",
        "sqlalchemy.engine",
        "alembic",
        "apscheduler.executors.default",
        "matplotlib",  # font_manager's INFO lines on every chart run
        "PIL",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
