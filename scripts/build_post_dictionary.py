"""Build the preset dictionary of a post-body format (``models/data/postbody-N.zdict``).

    .venv/bin/python scripts/build_post_dictionary.py 1 > models/data/postbody-1.zdict

Run once per new format, then never again for that format: every stored body of format N is
read back with exactly these bytes, so a shipped dictionary is frozen (a test checks its
digest). A better dictionary is a new format number (:mod:`models.postbody`).

Format 1: the 8,000 most frequent words of jieba's dictionary (general Chinese, MIT) and the
project's own fixed government formulations (``governance/data/quality``), plus a few lines of
news boilerplate, encoded as GB18030 like the bodies, most frequent last (deflate reaches the
end of its window most cheaply), cut to deflate's 32 KB window. Deliberately built from none
of the texts that ``bench/post_storage.py`` measures on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jieba

ROOT = Path(__file__).resolve().parent.parent
QUALITY = ROOT / "governance" / "data" / "quality"
WINDOW = 32 * 1024
BOILERPLATE = (
    "来源：\n责任编辑：\n编辑：\n审核：\n校对：\n原标题：\n发布时间：\n"
    "近日，\n日前，\n据了解，\n记者从\n获悉，\n会议指出，\n会议强调，\n会议要求，\n"
    "各有关单位：\n特此通知。\n附件：\n联系电话：\n"
)


def build() -> bytes:
    words: list[tuple[int, str]] = []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as lines:
        for line in lines:
            word, freq, *_ = line.split()
            if len(word) >= 2:
                words.append((int(freq), word))
    words.sort(reverse=True)
    common = "".join(w for _f, w in reversed(words[:8000]))
    formulations = "".join(
        line.split("\t")[0]
        for line in (QUALITY / "formulations.tsv").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    phrases = "".join(
        line.strip().replace("/", "")
        for line in (QUALITY / "official_phrases.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return (common + formulations + phrases + BOILERPLATE).encode("gb18030")[-WINDOW:]


def main() -> None:
    if sys.argv[1:] != ["1"]:
        sys.exit("usage: build_post_dictionary.py 1")
    sys.stdout.buffer.write(build())


if __name__ == "__main__":
    main()
