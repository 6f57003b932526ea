"""Differential check of the content checker: the same findings as another checkout's checker.

A speed change to the checker must not change a single finding. This runs the checker of
`--base` (another worktree, e.g. `main`'s) in a subprocess and this tree's checker here over
the same texts, and compares every finding (category, severity, span, text, suggestion, rule):

- the posts of bench/checker_speed.py's corpus (3 MB);
- every item of the three labelled sets (HTML items through check_html);
- spliced posts: pieces of the labelled texts and of tricky snippets (digit runs, x-runs, page
  residue, SEO chains, decorations, brackets, doubled words) cut and glued at random points,
  so that every rule family meets its anchors at text edges, next to each other and overlapping.

    git -C /work/main worktree add --detach /tmp/checker-base main
    python bench/checker_diff.py --base /tmp/checker-base
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ("quality_eval", "quality_heldout", "quality_fresh")
ALLOWED = frozenset({"example.gov.cn"})
SNIPPETS = (
    "13812345678", "138 1234 5678", "138-1234-5678", "11010519491231002X", "110105491231002",
    "身份证号110105491231002", "银行卡号6222020200112233445", "卡号 4111 1111 1111 1111",
    "1.38123456789", "a13812345678", "13812345678b", "2024-10-01", "12345678901234567890123456",
    "xx年xx月xx日", "共xxx人", "XX县", "x.x亿", "2024x年", "xx-xx", "XXL", "www.xxx.gov.cn",
    "x月x日", "Ｘ个", "×× 项", "二○○八", "○○局", "张某某", "某某某", "【请填写】", "{{name}}",
    "${x}", "%%NAME%%", "（此处插入图片）", "上一篇：", "下一条:", "第 3 页 / 共 10 页",
    "还剩 5 页未读，继续阅读", "共 8 页，当前第 2 页", "图片来源：网络", "来自：百度",
    "关注“某某生活”公众号", "关注微信公众号", "上传人：abc 页数：12页", "文档编号:AB-12",
    "下载积分: 5", "开通VIP免费下载全文", "vip下载", "阅读全文", "3/10页", "小编整理",
    "希望对大家有所帮助。", "供大家参考", "推荐访问：", "范文大全", "京ICP备12345678号-1",
    "公众号：abc www.spam.com", "扫码关注领取", "扫描二维码添加好友", "百家乐_真人视讯-平台官网",
    "bet365官网", "8868体育app下载", "金沙娱乐城官网", "★百家乐★", "✿午夜福利✿视频",
    "国产,精品,无码", "大政办发[2020]43号", "大政办发〔2020〕第43号", "国办发（2021）5号",
    "抓好好", "和和", "发布发布", "研究研究", "人人", "工作工作会议", "十五五", "http://a.com/bet",
    "https://x.cn/porn/a", "截止目前", "既使", "四川省重庆市", "第十九届全国代表大会", "a-b",
    "x_y", "a|b", "a/b", "一,二", "Ｋ", "İstanbul", "\ud800", "ß", "好好学习", "习近平",
)  # fmt: skip


ASTRAL = ("😀", "🔥", "🎰", "𠮷", "𝐀", "\U0001f1e8\U0001f1f3", "\ud800", "\udc00", "\ufffd", "🔥x")
SOUP = (
    *"xX×Ｘｘ○某第页共还剩/-_|｜,，:：[]〔〕()（）【】{}$% 　\n。！？;0123456789年月日号个人",
    *("关注", "公众号", "微信号", "微信", "来源", "网络", "图片", "扫码", "长按识别二维码", ".com"),
    *("www.", "http://", "百家乐", "体育", "官网", "app", "APP", "ı", "ſ", "İ", "K", "ⅴ", "av"),
    *("身份证", "卡号", "138", "1234", "上一篇", "下载", "VIP", "色情", "无码", "★", "✿", "○○"),
)


def texts(spliced: int = 3000, seed: int = 17, astral: int = 0) -> list[tuple[str, bool]]:
    """(text, is_html) pairs, the same every run for the same arguments."""
    sys.path.insert(0, str(ROOT / "bench"))
    from checker_speed import corpus

    out = [(p, False) for p in corpus(3.0)]
    pieces: list[str] = list(SNIPPETS)
    for name in SETS:
        for line in (ROOT / "tests" / "data" / f"{name}.jsonl").read_text("utf-8").splitlines():
            item = json.loads(line)
            out.append((item["text"], bool(item.get("html"))))
            if not item.get("html"):
                pieces.append(item["text"])
    rng = random.Random(seed)
    for _ in range(spliced):
        parts = []
        for _ in range(rng.randint(1, 6)):
            piece = rng.choice(pieces)
            i = rng.randint(0, len(piece))
            j = rng.randint(i, min(len(piece), i + rng.choice((3, 12, 40, 400))))
            parts.append(piece[i:j] if rng.random() < 0.7 else piece)
            if rng.random() < 0.3:
                parts.append(rng.choice(" \n-/_|,，。：:"))
        out.append(("".join(parts), False))
    for _ in range(spliced // 3):  # character soup of the anchors' own pieces
        n = rng.randint(1, 80)
        out.append(("".join(rng.choice(SOUP) for _ in range(n)), False))
    for i in range(astral):  # characters past U+FFFF (emoji) and lone surrogates spliced in
        text = out[i * 7 % len(out)][0]
        for _ in range(rng.randint(1, 8)):
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(ASTRAL) + text[at:]
        out.append((text, False))
    return out


def findings(
    root: Path, spliced: int, seed: int, astral: int = 0
) -> list[list[tuple[object, ...]]]:
    sys.path.insert(0, str(root))
    from governance.quality import build_checker

    checker = build_checker()
    out = []
    for text, html in texts(spliced, seed, astral):
        found = checker.check_html(text, allowed_domains=ALLOWED) if html else None
        found = found if found is not None else checker.check_text(text)
        out.append(
            [(str(f.category), str(f.severity), f.start, f.end, f.text, f.suggestion, f.rule)
             for f in found]
        )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="checkout whose checker is the reference")
    parser.add_argument("--spliced", type=int, default=3000, help="spliced texts (3000)")
    parser.add_argument("--seed", type=int, default=17, help="seed of the splicing (17)")
    parser.add_argument(
        "--astral", type=int, default=0, help="texts with emoji and lone surrogates spliced in (0)"
    )
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # the subprocess's side
    args = parser.parse_args()
    if args.dump:
        found = findings(Path.cwd(), args.spliced, args.seed, args.astral)
        args.dump.write_bytes(pickle.dumps(found))
        return
    dump = Path("/tmp") / f"checker_diff_{abs(hash(str(args.base)))}.pkl"
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            *("--dump", str(dump), "--spliced", str(args.spliced), "--seed", str(args.seed)),
            *("--astral", str(args.astral)),
        ],
        cwd=args.base,
        check=True,
    )
    base = pickle.loads(dump.read_bytes())
    mine = findings(ROOT, args.spliced, args.seed, args.astral)
    all_texts = texts(args.spliced, args.seed, args.astral)
    bad = [i for i, (a, b) in enumerate(zip(base, mine, strict=True)) if a != b]
    total = sum(map(len, mine))
    print(f"{len(mine)} texts, {total} findings; {len(bad)} texts differ")
    for i in bad[:10]:
        print(repr(all_texts[i][0][:200]))
        print("  base:", sorted(set(base[i]) - set(mine[i])))
        print("  this:", sorted(set(mine[i]) - set(base[i])))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
