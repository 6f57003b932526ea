import pytest

from .conftest import only


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("本文来源于网络，如有侵权请联系删除。", "本文来源于网络，如有侵权请联系删除"),
        ("更多内容请扫码关注。", "扫码关注"),
        ("VIP专享内容", "VIP专享"),
        ("点击查看全文", "点击查看全文"),
        ("上一篇：关于春季防火的通知", "上一篇："),
        ("第2页 / 共5页", "第2页 / 共5页"),
        ("关注“财经小妹”公众号获取干货", "关注“财经小妹”公众号"),
        ("图片来源：网络", "图片来源：网络"),
    ],
)
def test_content_farm_residue_is_flagged(checker, text, hit):
    found = only(checker.check_text(text), "ad")
    assert [f.text for f in found] == [hit]
    assert found[0].severity == "general"


@pytest.mark.parametrize(
    "text",
    [
        "欢迎关注“合肥发布”微信公众号。",
        "请关注“国家税务总局”微信公众号。",
        "来源：新华社",
        "本文转载自人民日报客户端。",
        "点击阅读原文，查看完整通知。",
    ],
)
def test_official_attribution_and_own_accounts_stay_quiet(checker, text):
    assert only(checker.check_text(text), "ad") == []
