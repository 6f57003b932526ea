"""Reading draft files: every place a .docx keeps text, a PDF's pages, scans, legacy files, and
the files refused before anything is decompressed or parsed."""

from __future__ import annotations

import asyncio
import io
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.drafts.child import DraftReader, extract
from documents.drafts.reader import Limits, read_document
from documents.drafts.safety import Refused
from governance.drafttext import Readable, Refusal, Spot
from governance.errors import InvalidInput
from tests.documents.samples import (
    GAMBLING_URL,
    ID_NUMBER,
    make_docx,
    make_pdf,
    make_scanned_pdf,
    make_zip_bomb,
)


def _places(data: bytes, name: str = "a.docx") -> dict[str, str]:
    doc = read_document(data, name, Limits())
    return {s.place.label(): s.text for s in doc.segments}


def test_docx_text_from_every_part_with_its_place() -> None:
    data = make_docx(
        paragraphs=["第一段。", "", "第二段。"],
        table=[["联系人", "身份证号"], ["王老师", ID_NUMBER]],
        footnotes=["资料来源：学校官网"],
        footnote_links=[GAMBLING_URL],
        comments=["请核实时间"],
        header="某区教育局",
        footer="内部资料",
        inserted="（新增）",
        deleted="（删去）",
    )
    places = _places(data)
    assert places["第1段"] == "第一段。" and places["第2段"] == "第二段。"  # empty ones not counted
    assert places["表1第2行第2列"] == ID_NUMBER
    assert places["页眉"] == "某区教育局" and places["页脚"] == "内部资料"
    assert places["脚注1"].startswith("资料来源：学校官网") and GAMBLING_URL in places["脚注1"]
    assert places["批注1"] == "请核实时间"
    assert places["第3段"] == "修订段：（新增）", "tracked insertions read, deletions left out"
    assert "（删去）" not in "".join(places.values())


def test_pdf_pages_scans_and_partly_scanned_files() -> None:
    doc = read_document(make_pdf(["第一页。", f"身份证{ID_NUMBER}"]), "a.pdf", Limits())
    assert doc.readable == Readable.TEXT and doc.pages == 2
    assert [(s.place.spot, s.place.a, s.text) for s in doc.segments] == [
        (Spot.PAGE, 1, "第一页。"),
        (Spot.PAGE, 2, f"身份证{ID_NUMBER}"),
    ]
    linked = read_document(make_pdf(["点击进入"], links={0: GAMBLING_URL}), "a.pdf", Limits())
    assert linked.segments[0].text == f"点击进入\n（{GAMBLING_URL}）", "a link's target is read"
    scan = read_document(make_scanned_pdf(3), "scan.pdf", Limits())
    assert scan.readable == Readable.NO_TEXT and scan.pages == 3 and not scan.segments


def test_legacy_files_without_libreoffice_are_taken_but_not_converted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("documents.drafts.reader.converter", lambda: None)
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    assert read_document(legacy, "旧稿.doc", Limits()).readable == Readable.NOT_CONVERTED
    assert read_document(b"{\\rtf1 hello}", "旧稿.wps", Limits()).readable == (
        Readable.NOT_CONVERTED
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (make_zip_bomb(), Refusal.ZIP_BOMB),
        (make_docx(paragraphs=["x"], macro=True), Refusal.MACRO),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"),
            Refusal.ENCRYPTED,
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "_VBA_PROJECT".encode("utf-16-le"), Refusal.MACRO),
        (make_docx(paragraphs=["x"], pages=301), Refusal.TOO_MANY_PAGES),
        (
            b"%PDF-1.4\n1 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj",
            Refusal.ACTIVE_CONTENT,
        ),
        (b"PK\x03\x04 not really a zip", Refusal.BROKEN),
        (b"MZ\x90\x00 an executable", Refusal.BROKEN),
    ],
    ids=["zip-bomb", "macro", "encrypted", "legacy-macro", "pages", "pdf-script", "zip", "exe"],
)
def test_unsafe_or_broken_files_are_refused(data: bytes, reason: Refusal) -> None:
    with pytest.raises(Refused) as refused:
        read_document(data, "x.docx", Limits())
    assert refused.value.reason == reason


def test_many_members_and_a_lying_directory_are_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(2_001):
            archive.writestr(f"word/media/{n}.xml", "")
    with pytest.raises(Refused) as refused:
        read_document(out.getvalue(), "x.docx", Limits())
    assert refused.value.reason == Refusal.ZIP_BOMB


def test_too_big_and_too_much_text() -> None:
    with pytest.raises(Refused) as refused:
        read_document(b"x" * 2048, "x.pdf", Limits(max_bytes=1024))
    assert refused.value.reason == Refusal.TOO_BIG
    with pytest.raises(Refused) as refused:
        read_document(make_docx(paragraphs=["字" * 300]), "x.docx", Limits(max_chars=100))
    assert refused.value.reason == Refusal.TOO_MUCH_TEXT


async def test_extraction_runs_in_a_child_process_killed_at_its_deadline() -> None:
    doc = await extract(make_docx(paragraphs=["你好。"]), "a.docx", Limits())
    assert [s.text for s in doc.segments] == ["你好。"]
    with pytest.raises(InvalidInput) as refused:
        await extract(make_zip_bomb(), "a.docx", Limits())
    assert "解压后体积过大" in refused.value.args[0]
    with pytest.raises(InvalidInput) as late:
        await extract(make_docx(paragraphs=["x"]), "a.docx", Limits(timeout=0.001))
    assert "秒内未能读取完毕" in late.value.args[0]


async def test_the_bots_reader_runs_a_bounded_number_of_children() -> None:
    reader = DraftReader(limits=Limits(), concurrency=1)
    docs = await asyncio.gather(
        *(reader.read(make_docx(paragraphs=[f"第{n}份。"]), "a.docx") for n in range(3))
    )
    assert [d.segments[0].text for d in docs] == ["第0份。", "第1份。", "第2份。"]
    with pytest.raises(ValueError, match="concurrency"):
        DraftReader(limits=Limits(), concurrency=0)


FAKE_SOFFICE = """#!{python}
import shutil, sys
from pathlib import Path
args = sys.argv[1:]
assert "--headless" in args and args[args.index("--convert-to") + 1].startswith("docx")
assert any(a.startswith("-env:UserInstallation=file://") for a in args), args
outdir, source = Path(args[args.index("--outdir") + 1]), Path(args[-1])
if source.read_bytes().endswith(b"BROKEN"):
    sys.exit(1)
outdir.mkdir(parents=True, exist_ok=True)
shutil.copy({converted!r}, outdir / (source.stem + ".docx"))
"""


def test_legacy_files_are_converted_with_libreoffice_headless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command LibreOffice gets (headless, own profile, --convert-to docx, --outdir) and
    what becomes of its output; a stand-in plays soffice (the suite does not install it)."""
    folder = tmp_path
    converted = folder / "converted.docx"
    converted.write_bytes(make_docx(paragraphs=["旧版文档的正文。"], table=[["甲", "乙"]]))
    script = folder / "soffice"
    script.write_text(FAKE_SOFFICE.format(python=sys.executable, converted=str(converted)))
    script.chmod(0o755)
    monkeypatch.setattr("documents.drafts.reader.converter", lambda: str(script))
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    doc = read_document(legacy, "旧稿.doc", Limits())
    assert doc.readable == Readable.TEXT
    assert {s.place.label(): s.text for s in doc.segments} == {
        "第1段": "旧版文档的正文。",
        "表1第1行第1列": "甲",
        "表1第1行第2列": "乙",
    }
    with pytest.raises(Refused) as refused:
        read_document(legacy + b"BROKEN", "旧稿.wps", Limits())
    assert refused.value.reason == Refusal.BROKEN


def test_field_hyperlinks_and_text_boxes_in_a_paragraph() -> None:
    from documents.drafts.safety import parse_xml
    from documents.drafts.wordml import W, Walker

    p = parse_xml(
        f'<w:p xmlns:w="{W}"><w:fldSimple w:instr=\' HYPERLINK "{GAMBLING_URL}" \'>'
        "<w:r><w:t>官网</w:t></w:r></w:fldSimple>"
        "<w:r><w:txbxContent><w:p><w:r><w:t>框内文字</w:t></w:r></w:p></w:txbxContent></w:r>"
        '<w:moveFrom w:id="1"><w:r><w:t>移走的</w:t></w:r></w:moveFrom></w:p>'.encode()
    )
    walker = Walker({})
    assert walker.paragraph(p) == f"官网（{GAMBLING_URL}）"
    assert walker.textboxes == ["框内文字"]


SAMPLES = {
    "docx": make_docx(paragraphs=["第一段。"], table=[["甲", "乙"]], footnotes=["注"]),
    "pdf": make_pdf(["第一页。", "第二页。"]),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(SAMPLES)),
    cut=st.integers(min_value=0, max_value=10_000),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
)
def test_damaged_files_are_read_or_refused_never_an_error(
    kind: str, cut: int, flips: list[tuple[int, int]]
) -> None:
    """Truncated or corrupted files: either text or a refusal (BROKEN), no other exception."""
    data = bytearray(SAMPLES[kind])
    for at, value in flips:
        data[at % len(data)] = value
    damaged = bytes(data[: max(1, len(data) - cut % len(data))])
    try:
        doc = read_document(damaged, f"x.{kind}", Limits())
    except Refused:
        return
    assert doc.readable in set(Readable)


def test_the_reader_process_gets_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from documents.drafts.child import child_environment

    monkeypatch.setenv("BOT_TOKEN", "123:secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://bot:pw@db/bot")
    passed = child_environment()
    assert "BOT_TOKEN" not in passed and "DATABASE_URL" not in passed and "PATH" in passed
