"""Every user-facing string is in the catalogs, and English has a translation for each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import build_i18n

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "bot" / "locales"


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with open(LOCALES / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


def test_catalogs_contain_every_string_in_the_code(tmp_path: Path) -> None:
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "--no-location",
            "-k",
            "_",
            "-k",
            "N_",
            "-k",
            "__",
            "-o",
            str(pot),
            "bot",
            "handlers",
            "governance",
            "jobs",
            "models",
            "workflows",
            "feeds",
            "documents",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    for locale in ("zh_CN", "en"):
        missing = wanted - {m.id for m in _catalog(locale) if m.id}
        assert not missing, f"run scripts/i18n; {locale} lacks {sorted(missing)[:5]}"


def test_every_english_entry_is_translated_with_the_same_placeholders() -> None:
    for message in _catalog("en"):
        if not message.id:
            continue
        assert message.string, f"untranslated: {message.id}"
        assert sorted(re.findall(r"\{\w*\}", message.id)) == sorted(
            re.findall(r"\{\w*\}", message.string)
        ), message.id


def test_compiled_catalogs_match_the_sources() -> None:
    i18n = build_i18n()
    for message in _catalog("en"):
        if message.id and message.string:
            assert i18n.gettext(message.id, locale="en") == message.string, (
                "run scripts/i18n to recompile"
            )
    assert i18n.gettext("可用命令：", locale="zh_CN") == "可用命令："
