"""Black-hat SEO injections by shape (gambling and porn spam on hijacked or mirrored pages).

Brands change every week, their shapes do not, so these rules learn the shapes:

- keyword chains joined by `_`, `-`, `|`, `,` or `/` without spaces
  ("<site><sport/live>_<betting>-平台官网"), reported when a link of the chain is vice;
- brand names built from digits and Latin letters (bet365, 99bet, 8868体育) or ending in a
  gambling word (…棋牌, …娱乐城) followed by 官网 / 开户 / 手机版 / app / 官方网站 …;
- decoration symbols (★✿ღ◈ …) sprinkled around or through a vice phrase to defeat filters.

A string of these shapes is itself an advert: an enforcement word elsewhere in the sentence
(条例, 打击, 公安) does not make it quiet, unlike the bare vocabulary in the dictionary.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator

from .anchors import Anchors, anchored, near, occurs
from .model import Finding, make_finding

_GAMBLING = re.compile(
    r"百家乐|博彩|赌场|赌博|娱乐城|娱乐场|棋牌|彩票|时时彩|六合彩|真人视讯|真人娱乐|投注|下注|老虎机|"
    r"轮盘|德州扑克|电子游艺|捕鱼|葡京|金沙|威尼斯人|太阳城|永利|皇冠|体育|娱乐|真人|电竞|"
    r"bet|casino|poker|slot",
    re.IGNORECASE,
)
_STRONG_GAMBLING = re.compile(
    r"百家乐|博彩|赌场|娱乐城|娱乐场|棋牌|时时彩|六合彩|真人视讯|真人|投注|老虎机|电子游艺|葡京|"
    r"威尼斯人|bet|casino",
    re.IGNORECASE,
)
_PORN = re.compile(
    r"无码|有码|午夜|福利姬|福利视频|成人|色情|黄色|偷拍|自拍|av|激情|情色|人妻|熟女|巨乳|裸聊|"
    r"约炮|一夜情|三级片|毛片|黄片|porn|xvideos|hentai",
    re.IGNORECASE,
)
_STRONG_PORN = re.compile(
    r"无码|有码|午夜福利|午夜|福利姬|色情|偷拍|自拍|(?<![A-Za-z])a[vⅴ](?![A-Za-z])|三级片|毛片|黄片|"
    r"人妻|熟女|巨乳|裸聊|约炮|一夜情|一区|二区|久久|中文字幕|乱码|欧美激情|porn|xvideos|hentai",
    re.IGNORECASE,
)
_PORN_CHAIN = re.compile(r"国产|亚洲|欧美|日韩|精品|在线观看|高清|视频|免费")
_LEGIT_LOTTERY = re.compile(r"福利彩票|体育彩票|中国福彩|中国体彩")
_SUFFIX = r"(?:官网|官方网站|开户|手机版|app|APP|App|下载|注册|登录|登陆|网址|入口)"
_SEGMENT = r"[A-Za-z0-9ⅴ\u4e00-\u9fff]{2,24}"
_CHAIN = re.compile(rf"{_SEGMENT}(?:[_|｜/,\-]{_SEGMENT})+")
_SEO_ENDINGS = ("官网", "官方网站", "官方网址", "网址", "入口", "平台官网", "登录")
_KEYWORD_SEPARATOR = re.compile(r"[_|｜/\-]")
_SEPARATOR = re.compile(r"[_|｜/,\-]")
_SEGMENT_BEFORE = re.compile(rf"{_SEGMENT}$")
_SUFFIX_RX = re.compile(_SUFFIX)
_CHAIN_END = re.compile(r".*(?:官网|官方网站|在线观看|视讯|平台|网址|app|APP)")
_MIXED_BRAND = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*[0-9][A-Za-z0-9]*[0-9])"
    rf"[A-Za-z0-9]{{4,12}}[\u4e00-\u9fff]{{0,4}}?{_SUFFIX}"
)
_DIGIT_BRAND = re.compile(
    r"(?<![A-Za-z0-9])[0-9]{3,6}(?:体育|娱乐|棋牌|彩票|真人|电竞|赌场|娱乐城)"
    rf"(?:app|APP)?{_SUFFIX}"
)
_WORD_BRAND = re.compile(
    r"[\u4e00-\u9fff]{2,6}?(?:棋牌|娱乐城|娱乐场|博彩|真人视讯|电玩城|捕鱼|娱乐平台|娱乐)"
    rf"(?:app|APP)?(?:下载)?{_SUFFIX}"
)
_DECOR = "★☆✿❀❁✾ღ◈❤♥♡✪✦✧♛☛➤❥❦❧✨⭐🔥💰🎰🃏♠♣♦"
_DECORATED = re.compile(rf"[{_DECOR}]+(?:[^{_DECOR}\n。！？；]{{1,24}}[{_DECOR}]+)+")
_DECOR_CHARS = re.compile(rf"[{_DECOR}]")


def _vice(text: str) -> str | None:
    """`gambling`, `porn` or None for the words of a suspicious string: a porn word no
    ordinary text uses (无码, 午夜福利, 一区) with a title-chain word, or a gambling word no
    ordinary text uses (百家乐, 博彩, 娱乐城)."""
    if _STRONG_PORN.search(text) and (_PORN_CHAIN.search(text) or len(_PORN.findall(text)) > 1):
        return "porn"
    if _LEGIT_LOTTERY.search(text):
        return None
    return "gambling" if _STRONG_GAMBLING.search(text) else None


_SEPARATORS = ("_", "|", "｜", "/", ",", "-")
_SUFFIXES = (
    "官网", "官方网站", "开户", "手机版", "app", "下载", "注册", "登录", "登陆", "网址", "入口",
)  # fmt: skip
_AV = r"(?<![A-Za-z])a[vⅴ](?![A-Za-z])"


def _folds(word: str) -> set[str]:
    """``word`` and its spellings with ı for i and ſ for s: re.IGNORECASE matches those, and
    lowering does not turn them into i and s (every other ASCII case form it does)."""
    out = {""}
    for c in word:
        out = {w + v for w in out for v in {"i": "iı", "s": "sſ"}.get(c, c)}
    return out


# A chain is reported only when it holds one of these (what _vice and _GAMBLING look for):
# in a text with none of them the separators need no look at all.
_VICE_WORDS = frozenset(
    f
    for rx in (_GAMBLING, _STRONG_GAMBLING, _STRONG_PORN)
    for w in rx.pattern.split("|")
    for f in (_folds(w.lower()) if w != _AV else ("av", "aⅴ"))
)
#: The words whose positions the checker's automaton reports to :func:`find_seo_spam`
#: (lowered): the separators, the suffixes (app for app, APP and App), the decorations and the
#: vice words.
ANCHOR_WORDS: tuple[str, ...] = (*_SEPARATORS, *_SUFFIXES, *_DECOR, *sorted(_VICE_WORDS))
_SUFFIX_SET, _DECOR_SET = frozenset(_SUFFIXES), frozenset(_DECOR)


def find_seo_spam(text: str, anchors: Anchors | None = None) -> Iterator[Finding]:
    """Each shape is searched only around its anchor (a separator, a suffix such as 官网, a
    decoration symbol): the anchors are rare in government text, so the cost stays linear
    and small, where a regex tried at every position of a long post was the slowest pass.
    ``anchors``: where the checker's automaton found :data:`ANCHOR_WORDS` in ``text``, so
    that not even the anchors are looked for again; None: found here."""
    vice: list[int] | None = None  # where vice words start (None: not known, look)
    if anchors is None:
        separators: Iterable[int] = (m.start() for m in _SEPARATOR.finditer(text))
        suffixes: Iterable[re.Match[str]] = _SUFFIX_RX.finditer(text)
        decorated = _DECOR_CHARS.search(text) is not None
    else:
        vice_words = anchors.keys() & _VICE_WORDS
        separators = (
            sorted(p for c in _SEPARATORS for p in anchors.get(c, ())) if vice_words else ()
        )
        if separators:
            vice = sorted(p for w in vice_words for p in anchors[w])
        suffixes = anchored(_SUFFIX_RX, text, near(anchors, _SUFFIX_SET))
        decorated = occurs(anchors, _DECOR_SET)
    covered = -1
    for at in separators:
        if at < covered:
            continue
        head = _SEGMENT_BEFORE.search(text, max(0, at - 24), at)
        m = _CHAIN.match(text, head.start()) if head else None
        if m is None:
            continue
        covered = m.end()
        if vice is not None and not _starts_within(vice, m.start(), covered):
            continue  # every rule below needs a vice word inside the chain (0551-6234…)
        chain = m.group()
        tail = _CHAIN_END.search(chain, len(chain) - len(_SEPARATOR.split(chain)[-1]))
        if tail:  # the last link runs into the page's own text: stop at its ending
            chain = chain[: tail.end()]
        category = _vice(chain)
        if category is None and _GAMBLING.search(chain) and chain.endswith(_SEO_ENDINGS):
            category = "gambling"
        if (
            category
            and len(_SEPARATOR.findall(chain)) < 2
            and not (len(_strong(chain)) >= 2 or chain.endswith(_SEO_ENDINGS))
        ):
            category = None  # two links only: an advert when both are vice or it ends in 官网
        if category and not _KEYWORD_SEPARATOR.search(chain) and len(_strong(chain)) < 2:
            category = None  # joined by commas only: a sentence unless two vice words
        if category:
            end = m.start() + len(chain)
            yield make_finding(
                text, category, m.start(), end, "删除涉赌涉黄内容", f"{category}.chain"
            )
    for suffix in suffixes:
        lo, hi = max(0, suffix.start() - 22), suffix.end()
        for rx in (_MIXED_BRAND, _DIGIT_BRAND, _WORD_BRAND):
            for m in rx.finditer(text, lo, hi):
                if m.end() != hi or _LEGIT_LOTTERY.search(m.group()):
                    continue
                if rx is _MIXED_BRAND and not (
                    _GAMBLING.search(m.group()) or _mixed_brand(m.group())
                ):
                    continue
                yield make_finding(
                    text, "gambling", m.start(), m.end(), "删除涉赌内容", "gambling.shape"
                )
                break
    for m in _DECORATED.finditer(text) if decorated else ():
        category = _vice(_DECOR_CHARS.sub("", m.group())) or (
            "gambling" if _GAMBLING.search(m.group()) else None
        )
        if category:
            yield make_finding(
                text, category, m.start(), m.end(), "删除涉赌涉黄内容", f"{category}.decorated"
            )


def _starts_within(starts: list[int], lo: int, hi: int) -> bool:
    """Whether one of the sorted ``starts`` lies in ``[lo, hi)``."""
    i = bisect_left(starts, lo)
    return i < len(starts) and starts[i] < hi


def _strong(text: str) -> set[str]:
    return {m.lower() for m in _STRONG_GAMBLING.findall(text) + _STRONG_PORN.findall(text)}


def _mixed_brand(s: str) -> bool:
    """bet365 / 99bet: letters and at least two digits in one token before the suffix."""
    token = re.match(r"[A-Za-z0-9]+", s)
    return bool(token and sum(c.isdigit() for c in token.group()) >= 2)
