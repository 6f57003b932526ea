"""What people do again and again in the end-to-end tests, done through chat like they would."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.fakes.telegram import Call, FakeUser


async def create_unit(admin: FakeUser, name: str, parent: str = "无上级单位") -> None:
    replies = await admin.send("/units")
    replies = await admin.press(replies[-1], "新增单位")
    await admin.send(name)
    prompt = admin.tg.sent_to(admin.id)[-1]
    replies = await admin.press(prompt, parent)
    assert "已新增单位" in replies[-1].text, replies[-1].text


async def invite_link(inviter: FakeUser, unit: str | None, role: str) -> str:
    """Create an invitation through chat and return the deep link."""
    replies = await inviter.send("/invite")
    menu = replies[-1]
    if unit is not None:
        menu = (await inviter.press(menu, unit))[-1]
    replies = await inviter.press(menu, role)
    match = re.search(r"https://t\.me/\S+\?start=[\w-]+", replies[-1].text)
    assert match, replies[-1].text
    return match.group(0)


def token_of(link: str) -> str:
    return link.rsplit("=", 1)[1]


async def join(user: FakeUser, link: str) -> list[Call]:
    return await user.send(f"/start {token_of(link)}")


@dataclass
class AccountForm:
    platform: str = "微信公众号"
    name: str = "某区教育发布"
    ref: str = "jiaoyu_fabu"
    unit: str | None = None  # admins pick a unit; unit managers do not
    duplicate_reason: str | None = None
    responsible: str = "李老师"
    per_week: str = "3"
    necessity: str = "发布教育政策和招生信息，回应家长关切。"
    plan: str = "每周三条：政策解读、招生通知、校园动态；由办公室编辑，分管领导审核。"
    feed_url: str | None = None


async def fill_registration(user: FakeUser, form: AccountForm) -> Call:
    """Walk /register up to the summary; return the summary message."""
    replies = await user.send("/register")
    replies = await user.press(replies[-1], form.platform)
    await user.send(form.name)
    await user.send(form.ref)
    last = user.tg.sent_to(user.id)[-1]
    if form.unit is not None:
        replies = await user.press(last, form.unit)
        last = replies[-1]
    if form.duplicate_reason is not None:
        replies = await user.send(form.duplicate_reason)
        last = replies[-1]
    replies = await user.press(last, form.responsible)
    await user.send(form.per_week)
    await user.send(form.necessity)
    replies = await user.send(form.plan)
    if form.feed_url is None:
        replies = await user.press(replies[-1], "暂不填写")
    else:
        replies = await user.send(form.feed_url)
    summary = replies[-1]
    assert "请核对登记信息" in summary.text, summary.text
    return summary
