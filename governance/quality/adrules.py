"""Content-farm residue that needs a little context, beyond the literal phrases in ad.tsv.

Calls to follow another account are residue, but government posts rightly promote their
own and sister accounts: a followed name that looks official (发布, 政务, 融媒, a place or
an office) stays quiet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
)
_SOURCE = re.compile(
    r"(?:图片|图文|视频|文章|内容|素材|图)?(?:来源|来自|转自|出处)\s*[:：]\s*"
    r"(?:网络|互联网|百度|今日头条|抖音|快手|知乎|搜狐|网易|百家号|头条号|小红书)"
)


def find_ad_residue(text: str) -> Iterator[Finding]:
    for m in _FOLLOW.finditer(text):
        if not _OFFICIAL_NAME.search(m.group("name")):
            yield make_finding(text, "ad", m.start(), m.end(), "删除引流内容", "ad.follow")
    for m in _NAV.finditer(text):
        yield make_finding(text, "ad", m.start(), m.end(), "删除页面导航残留", "ad.nav")
    for m in _SOURCE.finditer(text):
        yield make_finding(text, "ad", m.start(), m.end(), "注明真实来源或删除", "ad.source")
