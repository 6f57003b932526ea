"""The demo page in a real browser (Playwright driving Debian's Chromium): personas, buttons,
a registration, an invitation link, a draft through three review stages, a dormancy alert and
the report download.

It is part of the test command; alone: ``scripts/test -n 0 -m browser tests/demo``.
Chromium comes from the system (``/usr/bin/chromium``); where it is missing the
test installs it with apt-get when it runs as root, and skips with the reason otherwise.
Screenshots and the downloaded report are kept in ``build/demo-artifacts/`` (the path is
printed; ``DEMO_ARTIFACTS`` chooses another).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.demo.run import Demo
from bot.demo.scenario import ALERT_CHAT_ID

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

STEP = 60_000  # ms; generous: a loaded CI machine delays the outbox, never the outcome


def chromium() -> str:
    """The system Chromium, installed with apt-get where possible; skip with the reason else."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            subprocess.run(command, env=env, capture_output=True, timeout=1200, check=False)
        found = shutil.which("chromium")
        if found:
            return found
        pytest.skip("Chromium is missing and `apt-get install chromium` did not install it")
    pytest.skip("Chromium is missing; install Debian's package (apt-get install chromium) as root")


@pytest.fixture
def artifacts(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Path:
    """Outside pytest's rotating tmp dirs, so the screenshots outlive later test runs."""
    chosen = os.environ.get("DEMO_ARTIFACTS")
    path = Path(chosen) if chosen else request.config.rootpath / "build" / "demo-artifacts"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\ndemo browser test artifacts: {path}")
    return path


async def test_the_demo_page_in_a_browser(demo: Demo, artifacts: Path) -> None:
    async_api = pytest.importorskip("playwright.async_api", reason="pip install -e '.[dev]'")
    executable = chromium()
    async with async_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await walk_through(page, demo, artifacts, async_api.expect)
        finally:
            await browser.close()


async def walk_through(page: Any, demo: Demo, artifacts: Path, expect: Any) -> None:
    shots = 0

    async def shot(name: str) -> None:
        nonlocal shots
        shots += 1
        await page.screenshot(path=artifacts / f"{shots:02d}-{name}.png")

    def bot_says(text: str | re.Pattern[str]) -> Any:
        return page.locator(".msg.bot", has_text=text).last

    async def see(text: str | re.Pattern[str]) -> Any:
        message = bot_says(text)
        await expect(message).to_be_visible(timeout=STEP)
        return message

    async def say(text: str) -> None:
        await page.fill("#composer-text", text)
        await page.press("#composer-text", "Enter")

    async def press(message_text: str | re.Pattern[str], label: str) -> None:
        message = await see(message_text)
        await message.get_by_role("button", name=label, exact=True).click()

    async def persona(key: str) -> None:
        await page.click(f'button[data-persona="{key}"]')
        await expect(page.locator(f'button[data-persona="{key}"]')).to_have_class(
            re.compile("active")
        )

    await page.goto(f"{demo.url}/")
    await page.wait_for_function("document.body.dataset.live === '1'", timeout=STEP)

    # the admin's guided tour, then a registration through the buttons
    await persona("admin")
    await say("/start")
    await see("演示导览")
    await shot("admin-tour")
    await say("/register")
    await press("第 1 步：请选择平台。", "视频号")
    await see("请输入账号名称")
    await say("文旅视频号")
    await see("请输入平台账号ID")
    await say("wenlv_video_demo")
    await press("请选择账号的所属单位", "区文化和旅游局")
    await press("请选择该账号的责任人", "吴科长")
    await see("承诺每周")
    await say("2")
    await see("开设必要性")
    await say("发布文旅活动信息，回应游客关切。")
    await see("运营计划")
    await say("每周两条：活动预告和景区动态；办公室编辑，分管领导审核。")
    await press("订阅源", "暂不填写")
    await press("请核对登记信息", "✅ 确认提交")
    await see("账号已登记")
    await shot("registered")

    # a unit manager invites a colleague; the invitation link joins the newcomer persona
    await persona("manager")
    await say("/invite")
    await press("请选择受邀人的角色", "编辑")
    invitation = await see("邀请已生成")
    await invitation.locator("a", has_text="?start=").click()
    await expect(page.locator('button[data-persona="newcomer"]')).to_have_class(
        re.compile("active")
    )
    await see("你已加入“区教育局”")
    await shot("newcomer-joined")

    # the editor submits a draft
    await persona("editor")
    await say("/submit")
    await press("请选择发布账号", "教育发布（微信公众号）")
    await see("账号：教育发布")
    await say("区图书馆寒假开放时间调整：1月20日至2月20日每天9:00至17:00开放。")
    await press("已收到", "✅ 完成")
    await see("请输入稿件标题")
    await say("区图书馆寒假开放时间公告")
    await press("计划什么时候发布", "不设定")
    await press("请核对送审稿", "✅ 提交送审")
    confirmation = await see("已送审")
    found = re.search(r"SH-\d{4}-\d{4}", await confirmation.inner_text())
    assert found is not None
    number = found.group(0)
    await shot("submitted")

    # three stages, three people
    for key, stage in (("first", "初审"), ("second", "复审"), ("final", "终审")):
        await persona(key)
        card = await see(re.compile(f"{number}.*{stage}", re.S))
        await card.get_by_role("button", name="✅ 通过", exact=True).click()
        await see("你已通过")
        await shot(f"approved-{stage}")
    await persona("editor")
    await see(re.compile(f"{number}.*可以发布", re.S))
    await shot("editor-told")

    # a day passes: the alert chat hears of a new 僵尸号
    await page.click(f'button[data-chat="{ALERT_CHAT_ID}"]')
    await page.click("#advance-day")
    await see(re.compile("僵尸号.*教育发布", re.S))
    await shot("dormancy-alert")

    # last quarter's report, downloaded from the chat
    await persona("admin")
    await say("/report")
    await press("上季度", "上季度")
    await press("全部单位", "全部单位")
    link = page.locator(".msg.bot a.file", has_text=".xlsx").last
    await expect(link).to_be_visible(timeout=60_000)
    async with page.expect_download(timeout=STEP) as download_info:
        await link.click()
    download = await download_info.value
    target = artifacts / download.suggested_filename
    await download.save_as(target)
    summary = dict(
        row[:2] for row in load_workbook(target).worksheets[0].iter_rows(values_only=True)
    )
    assert int(summary["账号数"]) >= 25 and int(summary["期内发布数"]) > 500, summary
    await shot("report")
