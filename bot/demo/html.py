"""Telegram's HTML subset, made safe for the demo page: what a Telegram client would render.

The bot's messages use ``parse_mode=HTML``; the page shows them with ``innerHTML``, so only the
tags Telegram knows survive (``b i u s a code pre blockquote`` and their aliases, spoilers), links
keep an http(s) or tg ``href`` only, and everything else is text.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

_ALIASES = {
    "strong": "b",
    "em": "i",
    "ins": "u",
    "strike": "s",
    "del": "s",
    "tg-spoiler": "span",
}
_KEPT = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote", "span"})


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = _ALIASES.get(tag, tag)
        if name not in _KEPT:
            return
        attributes = ""
        if name == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://", "tg://")):
                attributes = f' href="{escape(href)}" target="_blank" rel="noopener noreferrer"'
        elif name == "span":
            classes = dict(attrs).get("class") or ""
            if tag != "tg-spoiler" and "tg-spoiler" not in classes:
                return
            attributes = ' class="tg-spoiler"'
        self.out.append(f"<{name}{attributes}>")
        self.open.append(name)

    def handle_endtag(self, tag: str) -> None:
        name = _ALIASES.get(tag, tag)
        if name in self.open:
            while self.open:
                closing = self.open.pop()
                self.out.append(f"</{closing}>")
                if closing == name:
                    break

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))

    def close(self) -> None:
        super().close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")


def telegram_html(text: str, *, is_html: bool) -> str:
    """Safe HTML for the page: the Telegram subset of ``text``, or ``text`` escaped."""
    if not is_html:
        return escape(text, quote=False)
    parser = _Sanitizer()
    parser.feed(text)
    parser.close()
    return "".join(parser.out)
