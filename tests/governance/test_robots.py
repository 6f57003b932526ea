"""Robot channel rules: limits, signing, answers, rendering, masking."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote_plus

from governance.robots import (
    RobotKind,
    RobotOutcome,
    classify,
    dingtalk_sign,
    dingtalk_signed_url,
    feishu_sign,
    html_to_markdown,
    mask_mobile,
    mask_webhook,
    next_allowed,
    normalise_mobile,
    robot_message,
    truncate_bytes,
    webhook_looks_right,
)


def test_wecom_allows_nineteen_a_minute_then_waits_for_the_oldest_to_age() -> None:
    sent = [float(i) for i in range(19)]
    assert next_allowed(RobotKind.WECOM, sent[:18], 19.0) == 19.0
    assert next_allowed(RobotKind.WECOM, sent, 19.0) == 60.0


def test_feishu_also_keeps_five_a_second() -> None:
    sent = [10.0, 10.1, 10.2, 10.3, 10.4]
    assert next_allowed(RobotKind.FEISHU, sent, 10.5) == 11.0


def test_dingtalk_signature_is_hmac_of_timestamp_and_secret_url_encoded() -> None:
    secret, ts = "SECabc", 1_700_000_000_000
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert dingtalk_sign(secret, ts) == expected
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", secret, ts)
    assert url.endswith(f"&timestamp={ts}&sign=" + url.split("sign=")[1])
    assert unquote_plus(url.split("sign=")[1]) == expected


def test_feishu_signature_keys_hmac_with_timestamp_and_secret_over_empty_message() -> None:
    key = b"1700000000\nsec"
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu_sign("sec", 1_700_000_000) == expected


def test_error_codes_are_classified_per_platform() -> None:
    assert classify(RobotKind.WECOM, 200, {"errcode": 0}).outcome is RobotOutcome.SENT
    assert classify(RobotKind.WECOM, 200, {"errcode": 45009}).outcome is RobotOutcome.RATE_LIMITED
    assert classify(RobotKind.WECOM, 200, {"errcode": 93000}).outcome is RobotOutcome.PERMANENT
    assert (
        classify(RobotKind.DINGTALK, 200, {"errcode": 130101}).outcome is RobotOutcome.RATE_LIMITED
    )
    assert classify(RobotKind.DINGTALK, 200, {"errcode": 310000}).outcome is RobotOutcome.PERMANENT
    assert classify(RobotKind.DINGTALK, 200, {"errcode": -1}).outcome is RobotOutcome.TRANSIENT
    assert classify(RobotKind.FEISHU, 200, {"code": 19021}).outcome is RobotOutcome.PERMANENT
    assert classify(RobotKind.FEISHU, 200, {"code": 9499}).outcome is RobotOutcome.RATE_LIMITED
    assert classify(RobotKind.FEISHU, 200, {"StatusCode": 0}).outcome is RobotOutcome.SENT
    assert classify(RobotKind.FEISHU, 502, None).outcome is RobotOutcome.TRANSIENT
    assert classify(RobotKind.FEISHU, 429, None).outcome is RobotOutcome.RATE_LIMITED
    assert classify(RobotKind.WECOM, 404, None).outcome is RobotOutcome.PERMANENT


def test_telegram_html_becomes_markdown() -> None:
    html = '<b>僵尸号</b> &lt;x&gt; <a href="https://a.example/p">原文</a>'
    assert html_to_markdown(html) == "**僵尸号** <x> [原文](https://a.example/p)"
    assert html_to_markdown(html, plain=True) == "僵尸号 <x> 原文 (https://a.example/p)"


def test_long_text_is_cut_within_the_byte_limit_with_a_note() -> None:
    text = "政" * 3000
    cut = truncate_bytes(text, 4096, "已截断")
    assert len(cut.encode()) <= 4096 and cut.endswith("已截断")
    assert truncate_bytes("短", 4096, "x") == "短"


def test_wecom_mentions_go_as_text_within_2048_bytes() -> None:
    msg = robot_message(
        RobotKind.WECOM,
        "<b>x</b>" + "政" * 2000,
        title="t",
        truncated_note="n",
        mobiles=["13800138000"],
    )
    assert msg.body["msgtype"] == "text"
    assert msg.body["text"]["mentioned_mobile_list"] == ["13800138000"]
    assert len(msg.body["text"]["content"].encode()) <= 2048


def test_dingtalk_mentions_by_at_mobiles_and_feishu_ignores_mobiles() -> None:
    ding = robot_message(
        RobotKind.DINGTALK, "x", title="t", truncated_note="n", mobiles=["13800138000"]
    )
    assert ding.body["at"]["atMobiles"] == ["13800138000"]
    assert "@13800138000" in ding.body["markdown"]["text"]
    fei = robot_message(
        RobotKind.FEISHU, "x", title="t", truncated_note="n", mobiles=["13800138000"]
    )
    assert not fei.mentioned and "13800138000" not in str(fei.body)


def test_secrets_and_mobiles_are_masked() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef-123456"
    assert "abcdef" not in mask_webhook(url) and mask_webhook(url).endswith("3456")
    assert mask_mobile("13800138000") == "138****8000"
    assert normalise_mobile("+86 138-0013-8000") == "13800138000"
    assert normalise_mobile("12345") is None


def test_webhook_shapes() -> None:
    assert webhook_looks_right(
        RobotKind.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-1"
    )
    assert webhook_looks_right(
        RobotKind.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=abc1"
    )
    assert webhook_looks_right(
        RobotKind.FEISHU, "https://open.feishu.cn/open-apis/bot/v2/hook/ab-1"
    )
    assert not webhook_looks_right(RobotKind.FEISHU, "https://open.feishu.cn/other")
