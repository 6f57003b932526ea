"""Pickers that page: the /routes account list, the responsible-person picker and the unit
choices reach their last item through the shared keyset pages, with totals."""

from __future__ import annotations

from bot.app import BotApp
from governance.roles import Role
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.e2e.test_lists import tg_admin_exists
from tests.fakes.telegram import FakeTelegram


async def _unit_with_manager(app: BotApp, clock) -> tuple[int, int]:
    unit = await seed_unit(app.sessionmaker, "某区文旅局", clock.now())
    manager = await seed_person(
        app.sessionmaker,
        telegram_id=3001,
        name="赵老师",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    await tg_admin_exists(app, clock)
    return unit, manager


async def test_routes_account_list_pages_to_the_last_of_40(app, tg: FakeTelegram, clock) -> None:
    from tests.conftest import ADMIN_ID

    unit, manager = await _unit_with_manager(app, clock)
    for n in range(40):
        await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit,
            responsible_id=manager,
            name=f"文旅账号{n:02d}",
            ref=f"wl{n:02d}",
            now=clock.now(),
        )
    person = tg.user(3001, "赵老师")
    overview = (await person.send("/routes"))[-1]
    assert "第 1–20 条，共 40 条" in overview.text
    page = (await person.press(overview, "下一页"))[-1]
    assert "第 21–40 条，共 40 条" in page.text and "文旅账号39" in str(page.buttons)
    back = (await person.press(page, "上一页"))[-1]
    assert "第 1–20 条" in back.text
    foreign = await seed_unit(app.sessionmaker, "某区教育局", clock.now())
    refused = await person.press_data(page, f"ro:0:0:0:{foreign}:-1")
    assert any("只有管理员和本单位管理员" in c.params.get("text", "") for c in refused)
