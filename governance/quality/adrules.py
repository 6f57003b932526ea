"""Content-farm residue that needs a little context, beyond the literal phrases in ad.tsv.

Calls to follow another account are residue, but government posts rightly promote their
own and sister accounts: a followed name that looks official (发布, 政务, 融媒, a place or
an office) stays quiet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

import ahocorasick_rs

from governance.vocabulary import Severity

from .anchors import Anchors, anchored, near, preceded
from .model import Finding, make_finding

_FOLLOW = re.compile(
    r"关注[“\"「『‘]?(?P<name>[^，。！？、；\n“”\"「」『』‘’]{1,20}?)[”\"」』’]?"
    r"(?:微信)?(?:公众号|订阅号|服务号|视频号|抖音号|头条号)"
)
_OFFICIAL_NAME = re.compile(
    r"发布|政府|政务|融媒|人民|日报|新闻|电视|广播|公安|警|局|委|办|厅|部|院|中心|市|县|区|省|"
    r"镇|乡|街道|社区|网信|团|妇联|工会|卫健|健康|教育|税务|法院|检察|纪|党建|文明|应急|消防|"
    r"气象|交通|医保|人社|民政|政协|人大|我们|本|官方"
)
_NAV = re.compile(
    r"(?:上一篇|下一篇|上一条|下一条)\s*[:：]"
    r"|第\s*[0-9]+\s*页\s*[/，,]?\s*共\s*[0-9]+\s*页"
    r"|还剩\s*[0-9]+\s*页未读"
    r"|共\s*[0-9]+\s*页\s*[，,]?\s*当前(?:第\s*[0-9]+\s*页|页)"
)
_SOURCE = re.compile(
    r"(?:图片|图文|视频|文章|内容|素材|图)?(?:来源|来自|转自|出处)\s*[:：]\s*"
    r"(?:网络|互联网|百度|今日头条|抖音|快手|知乎|搜狐|网易|百家号|头条号|小红书)"
)


# Document-site residue: upload metadata, buttons, editor's notes, watermarks, ICP lines.
_META_FIELD = (
    r"(?:上传人|上传者|上传用户|文档贡献者|贡献者|文档编号|文档ID|上传时间|上传日期|页数|文档大小|"
    r"大小|下载积分|下载券|浏览次数|浏览量|下载次数|阅读量|文档格式|格式)"
)
_META_VALUE = r"(?:[A-Za-z0-9_\-.:/]{1,24}(?:页|次|分|个|字)?|[\u4e00-\u9fff]{1,6}(?=\s))"
_META = re.compile(
    rf"{_META_FIELD}\s*[:：]\s*{_META_VALUE}(?:\s*{_META_FIELD}\s*[:：]\s*{_META_VALUE})*"
)
_META_STRONG = re.compile(r"上传人|上传者|上传用户|文档贡献者|文档编号|文档ID|下载积分|下载券")
_PAGE_OF = re.compile(r"(?<![0-9])[0-9]{1,4}\s*/\s*[0-9]{1,4}\s*页")
_BUTTONS = re.compile(
    r"(?:开通|成为)?VIP(?:会员)?[，,]?\s*(?:免费)?下载(?:全文|文档|本文)?"
    r"|下载文档|下载全文|免费下载(?:全文|本文|文档)?|立即下载|阅读全文|展开全文|继续阅读|查看全文"
    r"|(?:还剩|剩余)\s*[0-9]+\s*页未读[，,]?\s*(?:继续阅读|点击阅读)?"
    r"|(?:免费)?阅读已结束[，,]?\s*(?:点击下载阅读编辑剩下\s*\.*|您可以下载文档离线阅读编辑)?"
    r"|加入收藏|预计阅读时长\s*[0-9]+\s*分钟|共计\s*[0-9]+\s*个字",
    re.IGNORECASE,
)
_EDITOR = re.compile(
    r"(?:本文|以上|以下)?(?:就是)?(?:由)?小编(?:为大家|为您|给大家)?(?:精心)?(?:整理|收集|搜集|带来)[^。！\n]{0,30}[。！]?"
    r"|(?:希望|但愿)(?:能)?对(?:大家|您|你)有所帮助[。！]?"
    r"|(?:仅)?供大家参考(?:借鉴|学习)?[。！]?"
    r"|推荐访问\s*[:：]?[^。\n]{0,40}"
    r"|猜你(?:可能)?喜(?:欢|爱)\s*[:：]?"
    r"|(?:以下|下面)是(?:小编)?为(?:大家|您)(?:精心)?(?:整理|收集|搜集)的[^。！\n]{0,40}"
    r"|欢迎(?:大家)?(?:前来)?(?:参考|阅读|借鉴)(?:查阅|学习)?[。！!]?"
    r"|希望(?:能)?(?:给|对)(?:你|您|大家)[^。！\n]{0,16}(?:带来便利|有所帮助)[。！]?"
    r"|整理文档很辛苦[^。！!\n]{0,12}[。！!]?|赏杯茶钱[^。！!\n]{0,6}[。！!]?"
    r"|由会员分享[，,]?(?:可在线阅读)?|分享文档赚钱的网站|仅供学习[，,]?请勿他用[。！!]?"
    r"|本站(?:所有|部分)?(?:文章|内容|资料|图片|文档)(?:均)?(?:来自|来源于|转载自|收集于)(?:网络|互联网)"
    r"[^。！\n]{0,20}"
    r"|仅供(?:学习|交流)(?:参考|交流|使用)"
    r"|(?:更多|精品)(?:精品)?范文[^。\n]{0,20}"
    r"|范文大全|范文网|公文网"
)
_WATERMARK = re.compile(
    r"(?:(?:扫码|扫描二维码|长按识别二维码)?关注(?:微信)?公众号|微信公众号|公众号|微信号)\s*[:：]?\s*"
    r"[^\s，。；]{0,20}\s*[^。\n]{0,20}?"
    r"(?:https?://)?(?:www\.)?[A-Za-z0-9-]+\.(?:com|net|cc|top|vip|xyz|info|org|cn)\b"
)
_QR_CALL = re.compile(
    r"(?:扫码|扫描二维码|长按识别二维码)(?:关注|添加|加入|下载|领取)[^。\n]{0,30}"
)
_ICP = re.compile(
    r"(?:(?:ICP)?备案号?\s*[:：]\s*)?[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"ICP[备证]\s*[0-9]{6,10}号(?:-[0-9]+)?"
)
_GOV_DOMAIN = re.compile(r"\.gov\.cn\b|\.gov\b")


# Gates: a regex that starts with an alternation tries every position of a post, so each
# rule runs only when one of its words occurs, and the words are found in one pass of one
# automaton. The words are ones only document sites print, so ordinary posts pass no gate.
_GATES: dict[str, tuple[str, ...]] = {
    "follow": ("关注",),
    "nav": ("上一", "下一", "页"),
    "source": ("来源", "来自", "转自", "出处"),
    "meta": (
        "上传", "贡献者", "文档编号", "文档ID", "下载积分", "下载券", "浏览次数", "下载次数",
        "页数",
    ),
    "buttons": (
        "VIP", "vip", "Vip", "下载文档", "下载全文", "免费下载", "立即下载", "阅读全文", "展开全文",
        "继续阅读", "查看全文", "页未读", "阅读已结束", "加入收藏", "阅读时长", "个字",
    ),
    "editor": (
        "小编", "有所帮助", "供大家", "推荐访问", "猜你", "范文", "公文网", "为大家整理",
        "为大家收集", "为大家搜集", "为您整理", "欢迎大家", "欢迎参考", "欢迎阅读", "欢迎借鉴",
        "欢迎前来", "带来便利", "整理文档", "茶钱", "会员分享", "分享文档", "请勿他用", "本站",
        "仅供学习", "仅供交流",
    ),
    "pages": ("页",),
    "icp": ("ICP",),
    "watermark": ("公众号", "微信号", "扫码", "扫描二维码", "识别二维码"),
    # second words: a rule whose gate word is common in government text (关注, 来源, 公众号)
    # runs only when the other word its pattern needs occurs too
    "account": ("公众号", "订阅号", "服务号", "视频号", "抖音号", "头条号"),
    "source_name": (
        "网络", "互联网", "百度", "今日头条", "抖音", "快手", "知乎", "搜狐", "网易", "百家号",
        "头条号", "小红书",
    ),
    "domain": (".com", ".net", ".cc", ".top", ".vip", ".xyz", ".info", ".org", ".cn"),
    "qr": ("扫码", "扫描二维码", "识别二维码"),
}  # fmt: skip
_GATE_WORDS = [(w, gate) for gate, words in _GATES.items() for w in words]
_GATE_AC = ahocorasick_rs.AhoCorasick([w for w, _ in _GATE_WORDS])


def _open_gates(text: str) -> set[str]:
    try:
        hits = _GATE_AC.find_matches_as_indexes(text, overlapping=True)
    except UnicodeEncodeError:  # lone surrogates cannot be UTF-8 encoded
        return set(_GATES)
    return {_GATE_WORDS[i][1] for i, _, _ in hits}


#: Every gate word, lowered, with its gate: the checker folds them into its one automaton.
GATE_WORDS: tuple[tuple[str, str], ...] = tuple((w.lower(), gate) for w, gate in _GATE_WORDS)
_GATES_OF: dict[str, tuple[str, ...]] = {
    word: tuple(g for w, g in GATE_WORDS if w == word) for word, _ in GATE_WORDS
}
#: The words whose positions the rules below start from (lowered), for the checker's automaton:
#: the gate words, and the slash of 3/10页.
ANCHOR_WORDS: tuple[str, ...] = (*_GATES_OF, "/")
# What a match can hold before the anchor word it starts with (_WATERMARK, _SOURCE, _QR_CALL).
_WATERMARK_HEADS = tuple(
    (scan + follow + wx if follow else wx)
    for scan in ("", "扫码", "扫描二维码", "长按识别二维码")
    for follow in ("关注", "")
    for wx in ("", "微信")
    if follow or not scan
)
_SOURCE_HEADS = ("", "图片", "图文", "视频", "文章", "内容", "素材", "图")
_QR_HEADS = ("", "长按")


def find_ad_residue(text: str, anchors: Anchors | None = None) -> Iterator[Finding]:
    """Residue findings. ``anchors``: where the checker's automaton found :data:`ANCHOR_WORDS`
    in ``text``; each rule then runs only where a match can start. None: every rule scans the
    whole text (the checker's fallback when lowering changed the text's length)."""
    gates = (
        set(_GATES)
        if anchors is None
        else {g for w in anchors.keys() & _GATES_OF.keys() for g in _GATES_OF[w]}
    )
    if "follow" in gates and "account" in gates:
        for m in _matches(_FOLLOW, text, anchors, ("关注",)):
            if not _OFFICIAL_NAME.search(m.group("name")):
                yield make_finding(text, "ad", m.start(), m.end(), "删除引流内容", "ad.follow")
    if "nav" in gates:
        for m in _nav(text, anchors):
            yield make_finding(text, "ad", m.start(), m.end(), "删除页面导航残留", "ad.nav")
    if "source" in gates and "source_name" in gates:
        for m in _matches(_SOURCE, text, anchors, _GATES["source"], _SOURCE_HEADS):
            yield make_finding(text, "ad", m.start(), m.end(), "注明真实来源或删除", "ad.source")
    yield from _site_residue(text, gates, anchors)


def _matches(
    rx: re.Pattern[str],
    text: str,
    anchors: Anchors | None,
    words: tuple[str, ...],
    heads: tuple[str, ...] = ("",),
) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)``: over the whole text, or from the anchors when known (a match
    starts with one of ``heads`` followed by one of ``words``)."""
    if anchors is None:
        return rx.finditer(text)
    return anchored(rx, text, preceded(text, anchors, words, heads))


def _nav(text: str, anchors: Anchors | None) -> Iterator[re.Match[str]]:
    """上一篇：… starts at 上一/下一; the page counters (第 3 页, 共 8 页, 还剩 5 页未读) at 第,
    共 or 还剩, looked up only in a text that holds 页."""
    if anchors is None:
        return _NAV.finditer(text)
    starts = near(anchors, ("上一", "下一"))
    if "页" in anchors:
        for word in ("第", "共", "还剩"):
            i = text.find(word)
            while i >= 0:
                starts.append(i)
                i = text.find(word, i + 1)
    return anchored(_NAV, text, starts)


def _page_of_starts(text: str, slashes: Sequence[int]) -> list[int]:
    """Where 3/10页 can start: 1–4 characters before the white space before a slash."""
    out: list[int] = []
    for q in slashes:
        j = q
        while j > 0 and text[j - 1].isspace():  # str.isspace is re's \s
            j -= 1
        out += range(max(0, j - 4), j)
    return out


def find_site_residue(text: str) -> Iterator[Finding]:
    """Residue pasted from document-sharing sites and content farms (category ad)."""
    return _site_residue(text, _open_gates(text), None)


def _site_residue(
    text: str, gates: set[str] | frozenset[str], anchors: Anchors | None
) -> Iterator[Finding]:
    for m in _META.finditer(text) if "meta" in gates else ():
        fields = len(re.findall(r"[:：]", m.group()))
        if fields >= 2 or _META_STRONG.search(m.group()):
            yield make_finding(text, "ad", m.start(), m.end(), "删除文档站上传信息", "ad.upload")
    for m in _BUTTONS.finditer(text) if "buttons" in gates else ():
        yield make_finding(text, "ad", m.start(), m.end(), "删除页面按钮残留", "ad.button")
    if "pages" in gates:
        pages = (
            _PAGE_OF.finditer(text)
            if anchors is None
            else anchored(_PAGE_OF, text, _page_of_starts(text, anchors.get("/", ())))
        )
        for m in pages:
            yield make_finding(text, "ad", m.start(), m.end(), "删除页面按钮残留", "ad.button")
    for m in _EDITOR.finditer(text) if "editor" in gates else ():
        yield make_finding(text, "ad", m.start(), m.end(), "删除转载残留", "ad.editor")
    for m in _ICP.finditer(text) if "icp" in gates else ():
        yield make_finding(text, "ad", m.start(), m.end(), "删除网站备案信息残留", "ad.icp")
    if "watermark" not in gates:
        return
    if "domain" in gates:
        watermarks = (
            _WATERMARK.finditer(text)
            if anchors is None
            else anchored(
                _WATERMARK,
                text,
                preceded(text, anchors, ("公众号",), _WATERMARK_HEADS) + near(anchors, ("微信号",)),
            )
        )
        for m in watermarks:
            if not _GOV_DOMAIN.search(m.group()):
                yield _serious(text, m.start(), m.end(), "删除第三方网站水印", "ad.watermark")
    for m in _matches(_QR_CALL, text, anchors, _GATES["qr"], _QR_HEADS) if "qr" in gates else ():
        name = m.group()
        if not _OFFICIAL_NAME.search(name[4:]) or _WATERMARK.search(name):
            yield _serious(text, m.start(), m.end(), "删除引流二维码", "ad.qr")


def _serious(text: str, start: int, end: int, suggestion: str, rule: str) -> Finding:
    """Residue that sends readers to a foreign site or a QR code weighs more than plain residue."""
    return replace(
        make_finding(text, "ad", start, end, suggestion, rule), severity=Severity.SERIOUS
    )
