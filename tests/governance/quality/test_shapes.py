"""Issue 12: document-site residue, SEO injections by shape, placeholders in every form,
repeated characters and malformed document numbers."""

import pytest

from .conftest import only


@pytest.mark.parametrize(
    ("text", "residue"),
    [
        (
            "上传人：wenku2023 文档编号：38271645 页数：12页 大小：56KB县政府召开常务会议。",
            "上传人：wenku2023 文档编号：38271645 页数：12页 大小：56KB",
        ),
        (
            "会议要求抓好落实。本文由小编为大家整理，仅供大家参考。",
            "本文由小编为大家整理，仅供大家参考。",
        ),
        ("全年造林1.2万亩。推荐访问：工作总结 心得体会", "推荐访问：工作总结 心得体会"),
        ("第1页 / 共8页全镇排查隐患236处。", "第1页 / 共8页"),
        ("还剩3页未读，继续阅读全区建成充电桩1200个。", "还剩3页未读，继续阅读"),
        ("开通VIP会员，免费下载全文区委召开学习会。", "开通VIP会员，免费下载全文"),
        ("上半年新增就业2.1万人。备案号：京ICP备12034567号-1", "备案号：京ICP备12034567号-1"),
    ],
)
def test_document_site_residue_is_ad_of_general_weight(checker, text, residue):
    [f] = only(checker.check_text(text), "ad")
    assert (f.text, f.severity) == (residue, "general")


def test_a_watermark_with_a_foreign_domain_or_a_qr_call_weighs_serious(checker):
    [f] = only(
        checker.check_text("社区开展垃圾分类宣传。微信公众号：范文大全 www.fanwen123.com"), "ad"
    )
    assert f.severity == "serious" and "www.fanwen123.com" in f.text
    [qr] = only(checker.check_text("扫码关注公众号 获取更多精品范文"), "ad")
    assert qr.severity == "serious"


@pytest.mark.parametrize(
    ("text", "category", "spam"),
    [
        (
            "澳门新葡京娱乐_真人百家乐-平台官网市民政局开展检查。",
            "gambling",
            "澳门新葡京娱乐_真人百家乐-平台官网",
        ),
        ("全年完成农村公路改造150公里。8868体育官网", "gambling", "8868体育官网"),
        ("bet365开户区政府召开常务会议。", "gambling", "bet365开户"),
        ("区市场监管局开展抽检。99bet手机版", "gambling", "99bet手机版"),
        ("✿ღ金沙娱乐城ღ✿市人社局发布就业措施。", "gambling", "✿ღ金沙娱乐城ღ✿"),
        (
            "午夜福利_国产精品_亚洲无码视频在线观看县教育局部署工作。",
            "porn",
            "午夜福利_国产精品_亚洲无码视频在线观看",
        ),
    ],
)
def test_seo_injections_are_found_by_their_shape(checker, text, category, spam):
    found = only(checker.check_text(text), category)
    assert any(f.text == spam for f in found), found


def test_an_enforcement_word_does_not_hide_a_string_that_is_itself_an_advert(checker):
    [f] = only(checker.check_text("依据条例规定，开元棋牌app下载官网"), "gambling")
    assert f.text == "开元棋牌app下载官网"
    assert (
        only(checker.check_text("市公安局依法打击网络赌博，查处百家乐赌博窝点3个。"), "gambling")
        == []
    )


@pytest.mark.parametrize(
    "text",
    [
        "12306官网购票更便捷。",
        "请登录中国体育彩票官网查询开奖结果。",
        "编制2021-2025年发展规划。",
        "◆一是加强领导；◆二是强化保障。",
        "推进成人教育,提供免费视频课程,丰富群众体育文化娱乐生活。",
    ],
)
def test_ordinary_text_with_the_same_characters_is_not_spam(checker, text):
    assert [f for f in checker.check_text(text) if f.category in ("gambling", "porn")] == []


@pytest.mark.parametrize(
    ("text", "placeholders"),
    [
        ("本次共组织培训x期，参训人员xx人次。", ["x", "xx"]),
        ("全年完成投资x.x亿元。", ["x.x"]),
        ("计划于xxxx-xxxx年分步实施。", ["xxxx-xxxx"]),
        ("活动主题为“xxxx”，由各街道组织实施。", ["xxxx"]),
        ("共走访企业XX家， 解决问题xx个。", ["XX", "xx"]),
        ("截至xx日，已完成××项任务。", ["xx", "××"]),
    ],
)
def test_placeholders_in_every_form(checker, text, placeholders):
    assert [f.text for f in only(checker.check_text(text), "placeholder")] == placeholders


@pytest.mark.parametrize("text", ["访问www.xxx.gov.cn查询", "尺码XXL", "X光检查", "3 x 4 的矩阵"])
def test_x_in_words_and_host_names_is_no_placeholder(checker, text):
    assert only(checker.check_text(text), "placeholder") == []


@pytest.mark.parametrize(
    ("text", "repeat"),
    [
        ("各部门要抓好好安全生产工作。", "好好"),
        ("市委和和市政府高度重视。", "和和"),
        ("规范发布发布流程。", "发布发布"),
    ],
)
def test_a_doubled_character_or_word_is_a_typo(checker, text, repeat):
    [f] = [f for f in checker.check_text(text) if f.rule == "typo.repeat"]
    assert f.text == repeat


@pytest.mark.parametrize(
    "text",
    [
        "“十五五”时期是基本实现现代化的关键时期。",
        "扎扎实实、踏踏实实办好民生实事。",
        "强化食品药品安全全链条监管。",
        "将创新势能源源不断地转化为产业优势。",
        "形成人人想创新、事事靠创新的氛围。",
        "要好好学习，学习习近平新时代中国特色社会主义思想。",
        "一件件民生实事落地见效。",
    ],
)
def test_reduplication_and_compounds_are_not_repeats(checker, text):
    assert [f for f in checker.check_text(text) if f.rule == "typo.repeat"] == []


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("根据大政办发[2020]43号文件要求", "大政办发[2020]43号", "大政办发〔2020〕43号"),
        ("现将皖政〔2023〕第12号转发给你们", "皖政〔2023〕第12号", "皖政〔2023〕12号"),
        ("国发(2019)5号", "国发(2019)5号", "国发〔2019〕5号"),
    ],
)
def test_a_malformed_document_number_names_the_right_form(checker, text, wrong, right):
    [f] = [f for f in checker.check_text(text) if f.rule == "typo.docno"]
    assert (f.text, f.suggestion) == (wrong, right)


def test_a_well_formed_document_number_is_quiet(checker):
    assert checker.check_text("印发大政办发〔2020〕43号文件。") == []
