import pytest

from .conftest import only


@pytest.mark.parametrize(
    ("text", "category", "hit"),
    [
        ("澳门新葡京官网注册送38元", "gambling", "澳门新葡京官网"),
        ("真人百家乐，美女荷官在线发牌", "gambling", "真人百家乐"),
        ("重庆时时彩稳定计划", "gambling", "重庆时时彩"),
        ("最新网址 www.xpj8899.com", "gambling", "www.xpj8899.com"),
        ("同城约炮，寂寞美女等你", "porn", "约炮"),
        ("免费成人视频在线看", "porn", "成人视频"),
    ],
)
def test_spam_vocabulary_is_a_veto(checker, text, category, hit):
    found = only(checker.check_text(text), category)
    assert hit in [f.text for f in found]
    assert all(f.severity == "veto" for f in found)


@pytest.mark.parametrize(
    "text",
    [
        "市公安局破获一起百家乐网络赌博案件，抓获犯罪嫌疑人12名。",
        "根据《彩票管理条例》，任何单位不得擅自利用互联网销售彩票。",
        "中国福利彩票发行管理中心公布本期销售额。",
        "“扫黄打非”办依法查处传播淫秽色情信息的账号。",
        "东西部对口支援交流活动启动。",
        "卫生间地漏返水问题已修复。",
        "皇冠假日酒店举办招商推介会。",
    ],
)
def test_reports_on_enforcement_and_lawful_lottery_stay_quiet(checker, text):
    found = checker.check_text(text)
    assert only(found, "gambling") == [] and only(found, "porn") == []


def test_spam_with_a_contact_is_flagged_even_next_to_enforcement_words(checker):
    text = "严禁未成年人参与，百家乐开户加微信：abc12345"
    assert only(checker.check_text(text), "gambling")
