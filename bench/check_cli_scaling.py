"""Wall time of `python -m bot check FILE` for growing inputs: the cost must be linear.

Files of 1, 2, 4 and 8 MB (UTF-8) are built from the evaluation corpus (one defect sentence
in about 40, ~1,500-character paragraphs on their own lines); prints seconds per size and the
8 MB / 2 MB ratio (issue 12: at most 4.5). `--jsonl` times the same text as one JSON line per
paragraph instead.

    python bench/check_cli_scaling.py [--jsonl] [sizes in MB ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from checker_speed import corpus  # noqa: E402


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--jsonl"]
    jsonl = "--jsonl" in sys.argv
    sizes = [float(a) for a in args] or [1.0, 2.0, 4.0, 8.0]
    times: dict[float, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mb in sizes:
            posts = corpus(mb)
            path = Path(tmp) / f"{mb}.txt"
            if jsonl:
                lines = (
                    json.dumps({"id": i, "text": p}, ensure_ascii=False)
                    for i, p in enumerate(posts)
                )
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            else:
                path.write_text("\n".join(posts) + "\n", encoding="utf-8")
            cmd = [sys.executable, "-m", "bot", "check", str(path)] + (["--jsonl"] if jsonl else [])
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
            times[mb] = time.perf_counter() - start
            size = path.stat().st_size / 1e6
            print(f"{size:6.1f} MB  exit {done.returncode}  {times[mb]:6.2f} s")
    if 2.0 in times and 8.0 in times:
        print(f"8 MB / 2 MB time ratio: {times[8.0] / times[2.0]:.2f} (target <= 4.5)")


if __name__ == "__main__":
    main()
