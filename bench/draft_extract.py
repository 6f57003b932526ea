"""How long reading a draft file takes: in-process (the reader alone) and as the bot does it (a
child process per file: start-up, imports, reading, JSON back), for a long .docx, a long text
PDF, a scan, and a zip bomb (refused from the zip directory alone).

    .venv/bin/python bench/draft_extract.py [--repeat 5]

Figures in docs/benchmarks.md. Files are made here (tests/documents/samples.py); nothing is
read from disk or the network.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from documents.drafts.child import extract
from documents.drafts.reader import Limits, read_document
from documents.drafts.safety import Refused
from tests.documents.samples import ID_NUMBER, make_docx, make_pdf, make_scanned_pdf, make_zip_bomb

PARAGRAPH = "区教育局将于下周二召开全区中小学家长会，请各校做好组织工作，按时报送参会名单。"


def _files() -> dict[str, bytes]:
    return {
        "docx 2,000 paragraphs + 200-row table + notes": make_docx(
            paragraphs=[f"{n}. {PARAGRAPH}" for n in range(2_000)],
            table=[["序号", "姓名", "身份证号"]]
            + [[str(n), "王老师", ID_NUMBER] for n in range(200)],
            footnotes=[f"资料来源{n}" for n in range(50)],
            comments=[f"批注{n}" for n in range(50)],
        ),
        "pdf 300 pages of text": make_pdf([f"第{n}页 {PARAGRAPH * 3}" for n in range(300)]),
        "pdf 100 scanned pages": make_scanned_pdf(100),
        "zip bomb (20 MB member)": make_zip_bomb(),
    }


def _timed(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            result = run()
        except Exception as exc:  # a refusal is the result being measured
            result = exc
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    limits = Limits()
    print(f"{'file':48} {'size':>9} {'in-process':>11} {'child':>8}  result")
    for name, data in _files().items():
        inline, result = _timed(lambda d=data: read_document(d, "x", limits), repeat)  # type: ignore[misc]
        child, _ = _timed(lambda d=data: asyncio.run(extract(d, "x", limits)), repeat)  # type: ignore[misc]
        if isinstance(result, Refused):
            shown = f"refused: {result.reason.value}"
        else:
            shown = (
                f"{result.readable.value}, {len(result.segments)} segments, {result.chars} chars"
            )
        times = f"{inline * 1000:9.0f}ms {child * 1000:6.0f}ms"
        print(f"{name:48} {len(data) / 1024:7.0f}KB {times}  {shown}")


if __name__ == "__main__":
    main()
