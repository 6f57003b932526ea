"""``python -m bot check``: the content checker for people without the bot.

Needs no token, database or network: it reads text (a file or standard input), runs the pure
checker and prints findings, either readably or as JSON lines for batch use.

Input is read as bytes and its encoding detected: a byte-order mark (UTF-8, UTF-16, UTF-32),
else strict UTF-8, else UTF-16 without a mark (the NUL pattern of CJK text), else
charset-normalizer's best guess among the encodings Chinese documents come in (GB18030/GBK,
Big5). Input that is none of these, or that decodes to control characters, is reported as
binary in one line with exit status 2, never as "no problems".

Cost is linear in the input: readable mode checks the text in pieces cut at line ends (the
checks look no further than a sentence), and ``--jsonl`` reads, checks and writes one line at
a time, flushing each answer, so a pipe sees results while the input still streams. A single
text over `MAX_TEXT_CHARS` is refused with a clear message.

Exit status: 0 no findings, 1 findings (readable mode), 2 unreadable input (missing file,
binary, too large, malformed JSON lines).
"""

from __future__ import annotations

import codecs
import io
import json
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from governance.quality import Checker, Finding, build_checker
from governance.vocabulary import category_label, severity_label

MAX_TEXT_CHARS = 20_000_000  # one text (a file, or one --jsonl item) beyond this is refused
PIECE_CHARS = 200_000  # readable mode checks the text in pieces of about this size
_SNIFF_BYTES = 1 << 16
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHINESE_ENCODINGS = frozenset({"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "hz"})


class InputError(Exception):
    """Input that cannot be checked; the message is shown to the user as one line."""


@dataclass(frozen=True, slots=True)
class Piece:
    """A slice of the checked text: where it starts (offset), on which 1-based line, and
    how many characters of that line come before it (pieces are cut at line ends when the
    line allows, inside a very long line otherwise)."""

    text: str
    offset: int
    line: int
    column: int = 0


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "category": finding.category,
        "severity": finding.severity,
        "start": finding.start,
        "end": finding.end,
        "text": finding.text,
        "suggestion": finding.suggestion,
        "rule": finding.rule,
    }


# ---- decoding --------------------------------------------------------------------------


def _looks_binary(text: str) -> bool:
    """Control characters (other than tab and line ends) in more than 1% of a sample."""
    sample = text[:_SNIFF_BYTES]
    if not sample:
        return False
    if "\x00" in sample:
        return True
    bad = sum(
        1 for c in sample if c not in "\t\n\r\f\v" and unicodedata.category(c) in ("Cc", "Cs")
    )
    return bad > len(sample) / 100


def _readable_share(text: str) -> float:
    """Share of characters that ordinary Chinese or Western text is made of."""
    if not text:
        return 0.0
    ok = sum(
        1
        for c in text
        if (c.isprintable() and unicodedata.category(c) not in ("Co", "Cn")) or c in "\t\n\r"
    )
    return ok / len(text)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark: the byte order whose text reads as text."""
    sample = head[: len(head) & ~1]
    best, share = None, 0.0
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        if (s := _readable_share(text)) > share and "\x00" not in text:
            best, share = encoding, s
    return best if share >= 0.95 else None


def detect_encoding(data: bytes) -> str:
    """The encoding of `data` (see the module docstring), or InputError when it is binary."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    head = data[:_SNIFF_BYTES]
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(data) > len(head):
            return "utf-8"  # a character cut by the sample's end
    if b"\x00" in head:
        if (utf16 := _utf16_without_bom(head)) is not None:
            return utf16
        raise InputError("输入像是二进制文件，不是文本，无法检查")
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is not None and best.encoding in _CHINESE_ENCODINGS:
        return "gb18030" if best.encoding in ("gbk", "gb2312") else best.encoding
    try:  # charset-normalizer may prefer a Western code page for short Chinese text
        head.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    raise InputError("无法识别输入的文字编码（支持 UTF-8、GB18030/GBK、UTF-16），疑似二进制文件")


def decode(data: bytes) -> str:
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"输入不是有效的 {encoding} 文本（第 {exc.start} 字节附近），无法检查"
        ) from None
    if _looks_binary(text):
        raise InputError("输入像是二进制文件，不是文本，无法检查")
    return text


# ---- readable mode ---------------------------------------------------------------------


def pieces(text: str, size: int = PIECE_CHARS) -> Iterator[Piece]:
    """`text` cut at line ends into pieces of about `size` characters."""
    offset, line, column = 0, 1, 0
    while offset < len(text):
        end = min(len(text), offset + size)
        if end < len(text):
            cut = text.rfind("\n", offset, end)
            end = cut + 1 if cut >= offset else end
        piece = text[offset:end]
        yield Piece(piece, offset, line, column)
        newlines = piece.count("\n")
        line += newlines
        column = len(piece) - piece.rfind("\n") - 1 if newlines else column + len(piece)
        offset = end


def render_findings(piece: Piece, findings: list[Finding]) -> Iterator[str]:
    """One readable line per finding (sorted by start), with line and column in the whole
    text; one pass over the piece, so many findings on a long line stay linear."""
    line, last, line_start = piece.line, 0, -1 - piece.column
    for f in findings:
        nl = piece.text.rfind("\n", last, f.start)
        if nl >= 0:
            line += piece.text.count("\n", last, f.start)
            line_start = nl
        last = f.start
        hint = f" → 建议：{f.advice}" if f.advice else ""  # personal data: masked, no advice
        yield (
            f"  第{line}行第{f.start - line_start}列 [{severity_label(f.severity)}] "
            f"{category_label(f.category)}：「{f.shown}」{hint}（{f.rule}）"
        )


def render_readable(text: str, findings: list[Finding]) -> str:
    if not findings:
        return "未发现问题。"
    lines = [f"发现 {len(findings)} 处问题："]
    lines += render_findings(Piece(text, 0, 1), findings)
    return "\n".join(lines)


def check_readable(checker: Checker, text: str, out: IO[str]) -> int:
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"输入过大：{len(text):,} 个字符，超过单篇上限 {MAX_TEXT_CHARS:,}，请拆分后再检查"
        )
    body: list[str] = []
    for piece in pieces(text, PIECE_CHARS):
        findings = checker.check_text(piece.text)
        body += render_findings(piece, findings)
    if not body:
        out.write("未发现问题。\n")
        return 0
    out.write(f"发现 {len(body)} 处问题：\n")
    for line in body:
        out.write(line + "\n")
    return 1


# ---- JSON lines ------------------------------------------------------------------------


def _read_some(stream: BinaryIO) -> bytes:
    """What the stream has now (at least one byte unless at its end): a pipe is answered
    line by line instead of waiting for a full buffer."""
    read1 = getattr(stream, "read1", None)
    return read1(_SNIFF_BYTES) if read1 is not None else stream.read(_SNIFF_BYTES)


def _lines(stream: BinaryIO) -> Iterator[str]:
    """Decoded lines of a JSON-lines stream, read incrementally."""
    head = _read_some(stream)
    encoding = detect_encoding(head) if head else "utf-8"
    if encoding.startswith(("utf-16", "utf-32")):
        decoder = codecs.getincrementaldecoder(encoding)()
        buffered = decoder.decode(head)
        while True:
            *done, buffered = buffered.split("\n")
            yield from done
            chunk = _read_some(stream)
            if not chunk:
                break
            buffered += decoder.decode(chunk)
        buffered += decoder.decode(b"", final=True)
        if buffered:
            yield buffered
        return
    rest = head.removeprefix(codecs.BOM_UTF8)
    while True:
        cut = rest.find(b"\n")
        if cut < 0:
            chunk = _read_some(stream)
            if chunk:
                rest += chunk
                continue
            if not rest:
                return
            cut = len(rest)
        raw, rest = rest[:cut], rest[cut + 1 :]
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError:
            yield raw.decode("gb18030", errors="replace")


def check_jsonl(checker: Checker, lines: Iterable[str], out: IO[str]) -> int:
    """One output line per input line; a malformed line gets an ``error`` instead of findings."""
    bad = 0
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        item: Any = None
        try:
            item = json.loads(raw)
            if not isinstance(item, dict):
                raise TypeError("each line must be a JSON object")
            text = item["text"]
            if not isinstance(text, str):
                raise TypeError("text must be a string")
            if len(text) > MAX_TEXT_CHARS:
                raise ValueError(f"text longer than {MAX_TEXT_CHARS} characters")
        except (ValueError, KeyError, TypeError) as exc:
            bad += 1
            ident = item.get("id") if isinstance(item, dict) else None
            out.write(
                json.dumps({"id": ident, "line": number, "error": str(exc)}, ensure_ascii=False)
                + "\n"
            )
            out.flush()
            continue
        findings = [finding_dict(f) for f in checker.check_text(text)]
        out.write(
            json.dumps({"id": item.get("id"), "findings": findings}, ensure_ascii=False) + "\n"
        )
        out.flush()
    return bad


# ---- entry point -----------------------------------------------------------------------


def _standard_input() -> BinaryIO:
    """Standard input as bytes (its encoding is detected); a text stream put in its place
    (tests, embedding) is taken as the UTF-8 it already decoded."""
    raw: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    return raw if raw is not None else io.BytesIO(sys.stdin.read().encode("utf-8"))


def main(source: str, *, jsonl: bool, out: IO[str] | None = None) -> int:
    """Exit status: 0 clean, 1 findings (readable mode), 2 unreadable input."""
    out = out if out is not None else sys.stdout  # the stream of this call, not of the import
    try:
        return _main(source, jsonl=jsonl, out=out)
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


def _main(source: str, *, jsonl: bool, out: IO[str]) -> int:
    handle = _standard_input() if source == "-" else open(source, "rb")  # noqa: SIM115
    try:
        if jsonl:
            checker = build_checker()
            return 2 if check_jsonl(checker, _lines(handle), out) else 0
        data = handle.read(MAX_TEXT_CHARS * 4 + 1)
    finally:
        if source != "-":
            handle.close()
    if len(data) > MAX_TEXT_CHARS * 4:
        raise InputError(f"输入过大：超过单篇上限 {MAX_TEXT_CHARS:,} 个字符，请拆分后再检查")
    text = decode(data)
    return check_readable(build_checker(), text, out)
