"""Labelled repost variants for measuring repost recognition (governance.reposts.judge).

Articles are composed from vocabularies of issuing bodies, topics, title templates and
sentence templates, so the set is not one hand-picked example in many costumes. Each article
yields the edits reposts make (labelled true) and look-alikes that are other articles
(labelled false). Every variant names its ``kind``, so a failure points at a kind of edit:

true:  exact, prefix, suffix, stacked, shortened_head, shortened_tail, shortened_inner,
       editorial, new_title_text, excerpt_text, edited_text (note on top, a sentence dropped,
       words changed), commented_excerpt (own comment over two sentences), link_tracking,
       link_in_text, wechat_short, headline_only
false: template_twin (same template, other topic), word_swap (one word changed inside),
       own_text_lookalike (the article's title over another article's text), same_body_org
       (same issuing body, other article), other_link (same site, other page),
       headline_refused (a headline repost of a task that does not accept it), unrelated

    python bench/repost_variants.py            # writes tests/data/reposts.jsonl (seed 19)
    python bench/repost_variants.py --seed 7 --out /tmp/reposts-7.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "reposts.jsonl"

BODIES = (
    "市人民政府办公室",
    "市应急管理局",
    "区教育局",
    "市卫生健康委员会",
    "市生态环境局",
    "市人力资源和社会保障局",
    "市市场监督管理局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市民政局",
    "市医疗保障局",
    "市公安局",
    "市农业农村局",
    "市文化广电旅游局",
    "市税务局",
    "市发展和改革委员会",
    "市自然资源和规划局",
    "市水利局",
    "市消防救援支队",
    "区司法局",
)
TOPICS = (
    "安全生产月",
    "防汛抗旱",
    "生活垃圾分类",
    "城乡居民医保缴费",
    "义务教育招生入学",
    "消防安全宣传",
    "食品安全",
    "优化营商环境",
    "城乡居民养老保险",
    "冬季清洁供暖",
    "全国文明城市创建",
    "乡村振兴",
    "全民禁毒宣传",
    "反电信网络诈骗",
    "节能减排",
    "稳就业促增收",
    "老旧小区改造",
    "流感疫苗接种",
    "高温防暑",
    "森林草原防火",
    "农民工工资支付",
    "社区养老服务",
    "校园周边环境整治",
    "电动自行车安全",
    "耕地保护",
    "河湖长制",
    "全民健身",
    "消费券发放",
    "住房公积金提取",
    "残疾人两项补贴",
)
TEMPLATES = (
    "关于开展{year}年{topic}活动的通知",
    "{body}关于做好{topic}工作的通知",
    "关于印发《{year}年{topic}工作方案》的通知",
    "{topic}政策解读：{n}个要点一次说清",
    "一图读懂{year}年{topic}实施方案",
    "{body}发布{topic}工作提示",
    "{year}年{topic}工作部署会召开",
    "{topic}十问十答",
    "关于进一步加强{topic}工作的意见",
    "{body}：{topic}专项行动启动",
)
SENTENCES = (
    "为深入贯彻落实{topic}工作部署，进一步压实各方责任，经研究决定，现就有关事项通知如下。",
    "{body}要求各地各部门高度重视{topic}工作，结合实际制定具体方案，明确时间表和路线图。",
    "本次{topic}工作自{year}年{m}月起至{m2}月底，分动员部署、集中推进、总结提升三个阶段开展。",
    "各单位要加强组织领导，落实专人负责，于{m2}月{d}日前将工作开展情况报送{body}。",
    "群众可通过政务服务热线12345或{body}官方网站反映{topic}相关问题，有关部门将及时回应。",
    "据统计，去年全市共开展{topic}相关活动{k}场次，覆盖群众{k2}万人次，取得明显成效。",
    "下一步，{body}将持续加大{topic}工作力度，建立长效机制，切实提升群众获得感和满意度。",
    "对工作推进不力、措施落实不到位的单位，将予以通报批评并督促整改。",
)
OTHER_SENTENCES = (
    "近日，{body}组织召开专题会议，研究部署近期重点工作，会议由主要负责同志主持。",
    "会议听取了各科室工作进展情况汇报，分析了当前面临的形势和存在的问题。",
    "会议强调，要坚持问题导向，聚焦群众急难愁盼，推动各项工作落地见效。",
    "会后，与会人员围绕下一阶段重点任务进行了深入交流，并提出了具体意见建议。",
)
PREFIXES = (
    "【转载】",
    "【转发】",
    "转自{body}：",
    "重磅！",
    "速看！",
    "关注！",
    "【权威发布】",
    "#{topic}#",
    "转：",
    "[转载]",
    "提醒！",
)
SUFFIXES = (
    " | 来源：{body}",
    "（转自{body}）",
    "——来源：{body}",
    "_{body}",
    " - {body}",
    "（转载）",
)
EDITORIAL = ("来了！", "，速看", "（附全文）", "，请查收", "！", "，一起了解")
SOURCE_LINES = ("来源：{body}", "转自：{body}", "文章来源：{body}官方网站", "原标题：{title}")
EDITOR_LINES = ("编辑：{name}", "责任编辑：{name}", "审核：{name}", "校对：{name}")
NAMES = ("王芳", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
HOSTS = ("www.gov.cn", "www.example.gov.cn", "fgw.example.gov.cn", "jyj.example.gov.cn")
TRACKING = (
    "utm_source=wechat&utm_medium=social",
    "spm=a2c4g.11186623",
    "from=timeline",
    "share_token=8f2a91",
    "isappinstalled=0",
    "scene=21",
    "sharer_shareid=abc123",
)


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    text: str
    link: str
    body: str
    topic: str
    template: int
    sentences: tuple[str, ...] = ()


NOTES = (
    "编者按：近日，{body}印发通知，对{topic}工作作出部署。现将全文转载如下，供参考。",
    "【编者按】{topic}事关群众切身利益，请广大市民关注。",
    "转给身边的人！",
)
REWORDS = (
    ("各单位", "各部门"),
    ("群众", "市民"),
    ("进一步", "更好地"),
    ("要求", "强调"),
    ("明显成效", "积极成效"),
    ("及时", "尽快"),
    ("通知如下", "通知如下："),
)


def _fill(template: str, rng: random.Random, *, body: str, topic: str, year: int) -> str:
    m = rng.randint(3, 9)
    return template.format(
        body=body,
        topic=topic,
        year=year,
        n=rng.choice((3, 5, 6, 8, 10)),
        m=m,
        m2=m + rng.randint(1, 3),
        d=rng.randint(1, 28),
        k=rng.randint(20, 900),
        k2=rng.randint(2, 90),
    )


def _token(rng: random.Random, n: int = 16) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _link(rng: random.Random) -> str:
    if rng.random() < 0.5:
        biz = _token(rng, 12) + "=="
        mid = rng.randint(2_247_000_000, 2_651_000_000)
        idx = rng.randint(1, 4)
        sn = _token(rng, 32).lower()
        return f"https://mp.weixin.qq.com/s?__biz={biz}&mid={mid}&idx={idx}&sn={sn}#rd"
    if rng.random() < 0.5:
        return f"https://mp.weixin.qq.com/s/{_token(rng, 22)}"
    host = rng.choice(HOSTS)
    year, month, number = rng.randint(2024, 2026), rng.randint(1, 12), rng.randint(10**6, 10**7)
    return f"https://{host}/zwgk/{year}-{month:02d}/t{number}.html"


def sources(rng: random.Random, count: int) -> list[Source]:
    found: list[Source] = []
    seen: set[str] = set()
    while len(found) < count:
        body, topic = rng.choice(BODIES), rng.choice(TOPICS)
        template = rng.randrange(len(TEMPLATES))
        year = rng.choice((2025, 2026))
        title = _fill(TEMPLATES[template], rng, body=body, topic=topic, year=year)
        if title in seen:
            continue
        seen.add(title)
        sentences = rng.sample(SENTENCES, rng.randint(3, 5))
        filled = tuple(_fill(s, rng, body=body, topic=topic, year=year) for s in sentences)
        found.append(Source(title, "".join(filled), _link(rng), body, topic, template, filled))
    return found


def _task(
    s: Source, *, headline: bool = True, with_text: bool = True, with_link: bool = True
) -> dict:
    return {
        "title": s.title,
        "link": s.link if with_link else None,
        "text": s.text if with_text else "",
        "headline_counts": headline,
    }


def _row(kind: str, label: bool, task: dict, title: str, link: str | None, text: str) -> dict:
    return {
        "kind": kind,
        "label": label,
        "task": task,
        "post": {"title": title, "link": link, "text": text},
    }


def _own_link(rng: random.Random) -> str:
    return f"https://weibo.com/{rng.randint(10**9, 10**10)}/{_token(rng, 9)}"


def _shorten(title: str, rng: random.Random, where: str) -> str:
    """Drop a head, a tail or an inner chunk of up to a third of the title."""
    n = len(title)
    cut = max(2, rng.randint(n // 6, max(n // 6, n // 3)))
    if where == "head":
        return title[cut:]
    if where == "tail":
        return title[:-cut]
    start = rng.randint(2, max(2, n - cut - 2))
    return title[:start] + title[start + cut :]


def _with_tracking(link: str, rng: random.Random) -> str:
    base, _sep, fragment = link.partition("#")
    extra = "&".join(rng.sample(TRACKING, rng.randint(1, 3)))
    joined = f"{base}{'&' if '?' in base else '?'}{extra}"
    if rng.random() < 0.5:
        joined = joined.replace("https://", "http://", 1)
    return joined + (f"#{fragment}" if fragment else rng.choice(("", "#wechat_redirect")))


def _edited(s: Source, rng: random.Random) -> str:
    """The text as an editor reposts it: a note on top, maybe a sentence dropped, a few words
    changed, and a source line."""
    kept = list(s.sentences)
    if len(kept) >= 4:
        kept.pop(rng.randrange(1, len(kept)))
    text = "".join(kept)
    for old, new in rng.sample(REWORDS, 3):
        text = text.replace(old, new, 1)
    note = rng.choice(NOTES).format(body=s.body, topic=s.topic)
    return f"{note}\n{text}\n来源：{s.body}"


def _commented(s: Source, rng: random.Random) -> str:
    """An excerpt (the first two sentences) under the account's own two-sentence comment."""
    own = "".join(
        _fill(x, rng, body=s.body, topic=s.topic, year=2026) for x in rng.sample(OTHER_SENTENCES, 2)
    )
    return own + "".join(s.sentences[:2])


def variants(rng: random.Random, count: int = 60) -> Iterator[dict]:
    pool = sources(rng, count * 2)
    articles, others = pool[:count], pool[count:]
    for s in articles:
        f = {"body": s.body, "topic": s.topic}
        task = _task(s, with_text=rng.random() < 0.7, with_link=rng.random() < 0.8)
        own = _own_link(rng)
        name = rng.choice(NAMES)
        source_line = rng.choice(SOURCE_LINES).format(title=s.title, **f)
        editor_line = rng.choice(EDITOR_LINES).format(name=name)
        full = f"{source_line}\n{s.text}\n{editor_line}"
        maybe_text = full if rng.random() < 0.5 else ""
        yield _row("exact", True, task, s.title, own, maybe_text)
        yield _row(
            "prefix", True, task, rng.choice(PREFIXES).format(**f) + s.title, own, maybe_text
        )
        yield _row(
            "suffix", True, task, s.title + rng.choice(SUFFIXES).format(**f), own, maybe_text
        )
        stacked = rng.choice(PREFIXES).format(**f) + rng.choice(PREFIXES).format(**f)
        yield _row(
            "stacked", True, task, stacked + s.title + rng.choice(SUFFIXES).format(**f), own, ""
        )
        for where in ("head", "tail", "inner"):
            yield _row(f"shortened_{where}", True, task, _shorten(s.title, rng, where), own, "")
        yield _row(
            "editorial", True, task, _shorten(s.title, rng, "head") + rng.choice(EDITORIAL), own, ""
        )
        if task["text"]:
            new_title = f"{s.topic}，这些要点请收好"
            yield _row("new_title_text", True, task, new_title, own, full)
            cut = int(len(s.text) * rng.uniform(0.55, 0.8))
            yield _row(
                "edited_text",
                True,
                task,
                rng.choice((s.title, f"{s.topic}，这些要点请收好")),
                own,
                _edited(s, rng),
            )
            yield _row("commented_excerpt", True, task, f"关注{s.topic}", own, _commented(s, rng))
            yield _row(
                "excerpt_text",
                True,
                task,
                rng.choice(PREFIXES).format(**f) + s.title,
                own,
                s.text[:cut] + "\n" + source_line,
            )
        if task["link"]:
            yield _row(
                "link_tracking",
                True,
                task,
                rng.choice(("转发", "分享文章", "请关注")),
                _with_tracking(s.link, rng),
                "",
            )
            yield _row(
                "link_in_text",
                True,
                task,
                "转发微博",
                own,
                f"请大家关注转发：{_with_tracking(s.link, rng)}",
            )
            if "/s/" in s.link:
                yield _row("wechat_short", True, task, "推荐阅读", s.link + "?scene=1#rd", "")
        yield _row("headline_only", True, task, rng.choice(PREFIXES).format(**f) + s.title, own, "")
        refused = _task(s, headline=False, with_text=True, with_link=False)
        yield _row(
            "headline_refused", False, refused, rng.choice(PREFIXES).format(**f) + s.title, own, ""
        )

        # look-alikes: other articles
        twins = [o for o in others if o.template == s.template and o.topic != s.topic]
        if twins:
            o = rng.choice(twins)
            yield _row(
                "template_twin",
                False,
                task,
                o.title,
                _own_link(rng),
                o.text if rng.random() < 0.5 else "",
            )
        swapped = s.title.replace(s.topic, rng.choice([t for t in TOPICS if t != s.topic]), 1)
        other_text = "".join(
            _fill(x, rng, body=s.body, topic=s.topic, year=2026)
            for x in rng.sample(OTHER_SENTENCES, 3)
        )
        if swapped != s.title:
            yield _row("word_swap", False, task, swapped, _own_link(rng), "")
        lookalike_task = _task(s, with_link=False)
        yield _row("own_text_lookalike", False, lookalike_task, s.title, _own_link(rng), other_text)
        same_body = [o for o in others if o.body == s.body and o.topic != s.topic]
        if same_body:
            o = rng.choice(same_body)
            yield _row("same_body_org", False, task, o.title, _own_link(rng), o.text)
        if task["link"] and "/s/" not in s.link:
            other = (
                s.link.replace("idx=", "idx=9")
                if "idx=" in s.link
                else s.link.replace(".html", "1.html")
            )
            yield _row("other_link", False, _task(s, with_text=False), "转发", other, "")
        o = rng.choice(others)
        yield _row("unrelated", False, task, o.title, _own_link(rng), o.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = list(variants(random.Random(args.seed), args.articles))
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} variants ({sum(r['label'] for r in rows)} reposts) -> {args.out}")


if __name__ == "__main__":
    main()
