"""The live content checker: shipped dictionaries + admins' rules (database) + an optional file.

Admins change words in chat (``/words``) or in a TSV file (``QUALITY_EXTRA_FILE``); either change
applies without a restart: the chat handler asks for a refresh right away, and a scheduled job
notices file edits. Building the automata takes about 0.1 s, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import UserFacingError
from governance.quality import CheckerHolder, Customization, WordEntry
from governance.sweep import digest, items_of
from models import wordlists
from models.wordlists import RuleKind

FILE_KINDS = {kind.value for kind in RuleKind}


def read_extra_file(path: Path) -> tuple[Customization, list[str]]:
    """Parse ``kind<TAB>word[<TAB>category[<TAB>suggestion]]`` lines; return rules and problems."""
    words: list[WordEntry] = []
    lists: dict[str, list[str]] = {k: [] for k in FILE_KINDS}
    problems: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in raw.split("\t")]
        kind, word = parts[0], parts[1] if len(parts) > 1 else ""
        category = parts[2] if len(parts) > 2 and parts[2] else None
        suggestion = parts[3] if len(parts) > 3 and parts[3] else None
        try:
            value, category = wordlists.validate_word(RuleKind(kind), word, category)
        except ValueError:
            problems.append(f"{path.name}:{number}: unknown kind {kind!r}")
            continue
        except UserFacingError as exc:  # keep going, report the line
            problems.append(f"{path.name}:{number}: {exc}")
            continue
        if kind == RuleKind.WORD:
            words.append(WordEntry(category or "typo", value, suggestion))
        else:
            lists[kind].append(value)
    return (
        Customization(
            words=tuple(words),
            allow=tuple(lists[RuleKind.ALLOW]),
            disabled=tuple(lists[RuleKind.DISABLE]),
            removed_officials=tuple(lists[RuleKind.REMOVED_OFFICIAL]),
            allowed_domains=tuple(lists[RuleKind.ALLOWED_DOMAIN]),
        ),
        problems,
    )


@dataclass
class LiveChecker:
    """Owns the checker holder and knows when its sources changed."""

    holder: CheckerHolder = field(default_factory=CheckerHolder)
    extra_file: Path | None = None
    custom: Customization = field(default_factory=Customization)
    """The admins' changes the current checker was built with (the history sweep's target)."""
    after_rebuild: Callable[[], object] | None = None
    """Called once a new checker is in place (the app freezes it: it lives until the next)."""
    _seen: tuple[object, ...] = ()

    @property
    def version(self) -> str:
        """A digest of :attr:`custom`: equal word lists, equal version."""
        return digest(items_of(self.custom))

    def _file_stamp(self) -> float | None:
        if self.extra_file is None or not self.extra_file.exists():
            return None
        return self.extra_file.stat().st_mtime

    async def refresh(self, session: AsyncSession, *, force: bool = False) -> bool:
        """Rebuild when the rules or the file changed (or when forced); True if rebuilt."""
        stamp = (await wordlists.fingerprint(session), self._file_stamp())
        if stamp == self._seen and not force:
            return False
        rules = await wordlists.active_rules(session)
        extra = None
        if self.extra_file is not None and stamp[1] is not None:
            extra, problems = read_extra_file(self.extra_file)
            for problem in problems:
                logger.warning("word file: {}", problem)
        custom = wordlists.to_customization(rules, extra)
        await asyncio.to_thread(self.holder.rebuild, custom)
        if self.after_rebuild is not None:
            self.after_rebuild()
        self.custom = custom
        self._seen = stamp
        logger.info("content checker rebuilt: {} custom words", len(custom.words))
        return True


async def refresh_checker(
    *, live: LiveChecker, sessionmaker: async_sessionmaker[AsyncSession]
) -> bool:
    """Scheduled: pick up word-file edits and rule changes made elsewhere."""
    async with sessionmaker() as session:
        return await live.refresh(session)
