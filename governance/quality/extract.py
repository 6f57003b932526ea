"""HTML to plain text plus links, with the reason a browser would hide each link.

The plain text is what findings of `check_html` point into: text nodes in document
order with runs of whitespace collapsed to one space, a newline around every block
element (p, div, li, td, br, …), script/style/template content dropped, entities
decoded. Hidden text is kept, so a hidden spam link's words can be pointed at.

Hiding tricks recognised (inline style, `hidden` attribute, or simple `.class`/`#id`
rules from <style> blocks): display:none, visibility:hidden, opacity:0, font-size:0,
zero width/height (with overflow:hidden, or both zero), off-screen positioning or
text-indent beyond -500px, clip to nothing, and text coloured like its background
(a page without a declared background counts as white).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from .model import Link

_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "td",
        "th",
        "ul",
        "caption",
        "center",
    ]
)
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_SKIP = frozenset(["script", "style", "noscript", "template", "head", "title"])
_WS = re.compile(r"\s+")
_LEN = re.compile(r"^(-?\d+(?:\.\d+)?)(px|em|rem|pt|%|vw|vh)?$")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_NAMED = {
    "white": "#ffffff", "black": "#000000", "red": "#ff0000", "green": "#008000",
    "blue": "#0000ff", "yellow": "#ffff00", "gray": "#808080", "grey": "#808080",
    "silver": "#c0c0c0", "fff": "#ffffff", "snow": "#fffafa", "whitesmoke": "#f5f5f5",
}  # fmt: skip
_OFFSCREEN = -500.0


@dataclass(frozen=True, slots=True)
class _Frame:
    tag: str
    hidden: str | None
    color: str | None
    bg: str | None


def _decls(style: str) -> dict[str, str]:
    out = {}
    for part in style.split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip().lower()] = v.replace("!important", "").strip().lower()
    return out


def _length(v: str | None) -> float | None:
    if not v:
        return None
    m = _LEN.match(v.split()[0])
    if not m:
        return None
    n = float(m.group(1))
    return n * 16 if m.group(2) in ("em", "rem") else n


def _colour(v: str | None) -> str | None:
    if not v:
        return None
    v = v.replace(" ", "")
    if v in _NAMED:
        return _NAMED[v]
    if re.fullmatch(r"#[0-9a-f]{3}", v):
        return "#" + "".join(c * 2 for c in v[1:])
    if re.fullmatch(r"#[0-9a-f]{6}", v):
        return v
    m = re.fullmatch(r"rgba?\((\d+),(\d+),(\d+)(?:,([\d.]+))?\)", v)
    if m and (m.group(4) is None or float(m.group(4)) > 0):
        return "#{:02x}{:02x}{:02x}".format(*(min(255, int(m.group(i))) for i in (1, 2, 3)))
    return None


def _hiding(d: dict[str, str]) -> str | None:
    """Why these declarations hide an element, or None."""
    if d.get("display") == "none":
        return "display:none"
    if d.get("visibility") in ("hidden", "collapse"):
        return "visibility:hidden"
    if _length(d.get("opacity")) == 0:
        return "opacity:0"
    if (fs := _length(d.get("font-size"))) is not None and fs <= 0.5:
        return "font-size:0"
    w, h = _length(d.get("width")), _length(d.get("height"))
    mh = _length(d.get("max-height"))
    tiny = [x is not None and x <= 1 for x in (w, h, mh)]
    if (tiny[0] and tiny[1]) or (any(tiny) and d.get("overflow", "").startswith("hidden")):
        return "zero-size"
    if d.get("position") in ("absolute", "fixed"):
        for key in ("left", "top", "right", "bottom", "margin-left", "margin-top"):
            if (x := _length(d.get(key))) is not None and x <= _OFFSCREEN:
                return "off-screen"
    if (ti := _length(d.get("text-indent"))) is not None and ti <= _OFFSCREEN:
        return "off-screen"
    clip = d.get("clip", "").replace(" ", "")
    if clip.startswith("rect(0") and clip in (
        "rect(0,0,0,0)",
        "rect(0000)",
        "rect(0px,0px,0px,0px)",
        "rect(0px0px0px0px)",
    ):
        return "clip"
    return None


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.n = 0
        self.stack: list[_Frame] = [_Frame("#root", None, None, None)]
        self.open_links: list[tuple[str, int, str | None, int]] = []
        self.done_links: list[tuple[str, int, int, str | None]] = []
        self.skip = 0
        self.rules: dict[str, str] = {}
        self.style_buf: list[str] = []

    def _emit(self, s: str) -> None:
        self.parts.append(s)
        self.n += len(s)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self._emit("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag in _SKIP:
            self.skip += 1
            return
        if tag in _BLOCK:
            self._newline()
        style = " ".join(self.rules.get("." + c, "") for c in a.get("class", "").split())
        style += ";" + self.rules.get("#" + a["id"], "") if a.get("id") else ""
        d = _decls(style + ";" + a.get("style", ""))
        parent = self.stack[-1]
        hidden = parent.hidden or ("hidden-attr" if "hidden" in a else None) or _hiding(d)
        color = _colour(d.get("color") or a.get("color")) or parent.color
        bg = (
            _colour(d.get("background-color") or d.get("background") or a.get("bgcolor"))
            or parent.bg
        )
        if not hidden and color and color == (bg or "#ffffff"):
            hidden = "same-colour"
        if tag in _VOID:
            return
        self.stack.append(_Frame(tag, hidden, color, bg))
        if tag == "a" and a.get("href"):
            self.open_links.append((a["href"].strip(), self.n, hidden, len(self.stack)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and tag not in _SKIP:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if tag == "style" and self.style_buf:
                for sel, body in _RULE.findall("".join(self.style_buf)):
                    for s in sel.split(","):
                        if re.fullmatch(r"[.#][\w-]+", s.strip()):
                            self.rules[s.strip()] = self.rules.get(s.strip(), "") + ";" + body
                self.style_buf = []
            self.skip = max(0, self.skip - 1)
            return
        if tag in _VOID:
            if tag == "br":
                self._emit("\n")
            return
        depth = next(
            (i for i in range(len(self.stack) - 1, 0, -1) if self.stack[i].tag == tag), None
        )
        if depth is None:
            return
        while self.open_links and self.open_links[-1][3] >= depth + 1:
            href, start, hidden, _ = self.open_links.pop()
            self._close_link(href, start, hidden)
        del self.stack[depth:]
        if tag in _BLOCK:
            self._newline()

    def _close_link(self, href: str, start: int, hidden: str | None) -> None:
        self.done_links.append((href, start, self.n, hidden))

    def handle_data(self, data: str) -> None:
        if self.skip:
            if self.lasttag == "style":
                self.style_buf.append(data)
            return
        s = _WS.sub(" ", data)
        if s == " " and (not self.parts or self.parts[-1].endswith(("\n", " "))):
            return
        if self.parts and self.parts[-1].endswith(("\n", " ")) and s.startswith(" "):
            s = s[1:]
        if s:
            self._emit(s)

    def finish(self) -> tuple[str, list[Link]]:
        self.close()
        while self.open_links:
            href, start, hidden, _ = self.open_links.pop()
            self._close_link(href, start, hidden)
        text = "".join(self.parts)
        links = []
        for href, start, end, hidden in self.done_links:
            raw = text[start:end]
            s = start + len(raw) - len(raw.lstrip())
            stripped = raw.strip()
            links.append(Link(href, s, s + len(stripped), stripped, hidden))
        return text, sorted(links, key=lambda k: k.start)


def extract(html: str) -> tuple[str, list[Link]]:
    """Plain text of an HTML document and its links (spans point into that text)."""
    p = _Extractor()
    p.feed(html)
    return p.finish()


def html_to_text(html: str) -> str:
    """The plain text that `check_html` findings point into; store it with the findings."""
    return extract(html)[0]
