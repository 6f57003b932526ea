"""The bot token never reaches a log line, tracebacks included."""

from __future__ import annotations

import json
import logging
import sys

from loguru import logger

from bot.logging import setup_logging

TOKEN = "123456789:AAEsecretsecretsecretsecret"


def test_token_is_redacted_from_messages_and_tracebacks() -> None:
    lines: list[str] = []
    setup_logging(level="DEBUG", secrets=[TOKEN], write=lines.append)
    try:
        logger.info("calling https://api.telegram.org/bot{}/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed url /bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("boom")
        logging.getLogger("aiogram.event").warning("std logging with %s", TOKEN)
    finally:
        logger.remove()
        logger.add(sys.stderr)
    text = "".join(lines)
    assert TOKEN not in text
    assert text.count("***") >= 3


def test_json_lines_when_asked() -> None:
    lines: list[str] = []
    setup_logging(level="INFO", json=True, secrets=[TOKEN], write=lines.append)
    try:
        logger.info("hello {}", TOKEN)
    finally:
        logger.remove()
        logger.add(sys.stderr)
    record = json.loads(lines[-1])
    assert record["record"]["message"] == "hello ***"


def test_matplotlib_info_lines_are_quiet() -> None:
    lines: list[str] = []
    setup_logging(level="INFO", write=lines.append)
    logging.getLogger("matplotlib.font_manager").info("generated new fontManager")
    logging.getLogger("matplotlib.font_manager").warning("a real problem")
    assert not any("fontManager" in line for line in lines)
    assert any("a real problem" in line for line in lines)
