"""Lists that page, everywhere: keyset pages to the end with totals, stable under inserts,
the unit tree browsable, stale and foreign page buttons refused like other stale buttons."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.app import BotApp
from governance.cases import CaseKind, CaseStatus
from governance.roles import Role
from models.cases import Case
from models.people import Unit
from tests.conftest import ADMIN_ID
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.telegram import Call, FakeTelegram, FakeUser


async def _add_case(app: BotApp, *, account_id: int, unit_id: int, deadline, now) -> int:
    async with app.sessionmaker() as session:
        case = Case(
            account_id=account_id,
            unit_id=unit_id,
            kind=CaseKind.MANUAL,
            status=CaseStatus.OPEN,
            deadline=deadline,
            opened_at=now,
            updated_at=now,
        )
        session.add(case)
        await session.commit()
        assert case.id is not None
        return case.id


def _ids(call: Call) -> list[int]:
    return [int(m) for m in re.findall(r"^#(\d+) ", call.text, flags=re.MULTILINE)]


async def _office(app: BotApp, clock) -> tuple[int, int]:
    unit = await seed_unit(app.sessionmaker, "某区文旅局", clock.now())
    person = await seed_person(
        app.sessionmaker,
        telegram_id=3001,
        name="赵老师",
        unit_id=unit,
        roles=(Role.UNIT_MANAGER,),
        now=clock.now(),
    )
    await tg_admin_exists(app, clock)
    account = await seed_account(
        app.sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=person,
        name="文旅发布",
        now=clock.now(),
    )
    return unit, account


async def tg_admin_exists(app: BotApp, clock) -> None:
    from models import people

    async with app.sessionmaker() as session:
        await people.bootstrap_admin(session, telegram_id=ADMIN_ID, now=clock.now())
        await session.commit()


@pytest.mark.both_backends
async def test_150_cases_page_to_the_end_stable_under_inserts(app, tg: FakeTelegram, clock) -> None:
    unit, account = await _office(app, clock)
    now = clock.now()
    seeded = [
        await _add_case(
            app,
            account_id=account,
            unit_id=unit,
            deadline=now + timedelta(days=1 + n % 7),  # many share a deadline: ids break ties
            now=now,
        )
        for n in range(150)
    ]
    admin = tg.user(ADMIN_ID, "王主任")
    page = (await admin.send("/cases"))[-1]
    assert "共 150 件" in page.text and "第 1–10 条" in page.text
    seen: list[int] = []
    pages = 0
    while True:
        seen += _ids(page)
        pages += 1
        if pages == 3:  # the office works meanwhile: one case ahead of the cursor, one behind
            await _add_case(app, account_id=account, unit_id=unit, deadline=now, now=now)
            late = await _add_case(
                app, account_id=account, unit_id=unit, deadline=now + timedelta(days=30), now=now
            )
        if "下一页" not in str(page.buttons):
            break
        page = (await admin.press(page, "下一页"))[-1]
    # the case filed ahead of the cursor moved every later row down one place
    assert "共 152 件" in page.text and "第 152–152 条" in page.text
    assert len(seen) == len(set(seen)) == 151  # nothing repeated, nothing skipped
    assert set(seen) == {*seeded, late}
    back = (await admin.press(page, "上一页"))[-1]
    assert "第 142–151 条" in back.text and _ids(back) == seen[-11:-1]
    first = (await admin.press(back, "第一页"))[-1]
    assert "第 1–10 条" in first.text


async def test_the_unit_tree_browses_and_picks_a_unit_for_every_list(
    app, tg: FakeTelegram, clock
) -> None:
    now = clock.now()
    await tg_admin_exists(app, clock)
    async with app.sessionmaker() as session:
        city = Unit(name="某市政府办", created_at=now)
        session.add(city)
        await session.flush()
        districts = [
            Unit(name=f"某区{n:02d}局", parent_id=city.id, created_at=now) for n in range(25)
        ]
        session.add_all(districts)
        session.add(Unit(name="某县政府办", created_at=now))
        await session.flush()
        session.add(Unit(name="某街道办", parent_id=districts[0].id, created_at=now))
        await session.commit()
    admin: FakeUser = tg.user(ADMIN_ID, "王主任")
    top = (await admin.send("/units"))[-1]
    assert "顶级单位" in top.text and "某市政府办（下级 25 个）" in top.text
    level = (await admin.press(top, "某市政府办 的下级"))[-1]
    assert "第 1–12 条，共 25 条" in level.text and "某区00局（下级 1 个）" in level.text
    level = (await admin.press(level, "下一页"))[-1]
    level = (await admin.press(level, "下一页"))[-1]
    assert "第 25–25 条，共 25 条" in level.text and "某区24局" in level.text
    level = (await admin.press(level, "第一页"))[-1]
    street = (await admin.press(level, "某区00局 的下级"))[-1]
    assert "某街道办" in street.text
    up = (await admin.press(street, "上一级"))[-1]
    assert "某区00局" in up.text and "共 25 条" in up.text

    picker = (await admin.send("/users"))[-1]
    level = (await admin.press(picker, "某市政府办 的下级"))[-1]
    people = (await admin.press(level, "某区03局"))[-1]
    assert "某区03局（共 0 人）" in people.text

    report = (await admin.send("/report"))[-1]
    scope = (await admin.press(report, "本月"))[-1]
    assert "第 1–20 条，共 28 条" in scope.text and "全部单位" in str(scope.buttons)
    scope = (await admin.press(scope, "下一页"))[-1]
    assert "第 21–28 条，共 28 条" in scope.text and "某街道办" in str(scope.buttons)


async def test_stale_and_foreign_page_buttons_are_refused(app, tg: FakeTelegram, clock) -> None:
    unit, _account = await _office(app, clock)
    other = await seed_unit(app.sessionmaker, "某区教育局", clock.now())
    manager = tg.user(3001, "赵老师")
    own = (await manager.send("/accounts"))[-1]
    assert "文旅发布" in own.text
    foreign = await manager.press_data(own, f"al:0:0:0:0:{other}::")
    assert any("只能查看本单位的账号" in c.params.get("text", "") for c in foreign)
    stale = await manager.press_data(own, "al:0:0:0:5::")  # a page button of the old format
    assert any("该按钮已失效" in c.params.get("text", "") for c in stale)
    stale = await manager.press_data(own, "al:0:::1")  # and of an older one
    assert any("该按钮已失效" in c.params.get("text", "") for c in stale)
    assert unit != other


@pytest.mark.both_backends
async def test_the_account_list_total_follows_registrations_and_a_fix_by_hand(
    app, tg: FakeTelegram, clock
) -> None:
    """The first page's total comes from the tallies: each viewer's scope, and still right
    after a status changed in SQL behind the bot's back."""
    unit, first = await _office(app, clock)
    other = await seed_unit(app.sessionmaker, "某区教育局", clock.now())
    people = {
        where: await seed_person(
            app.sessionmaker,
            telegram_id=tid,
            name=name,
            unit_id=where,
            roles=(Role.EDITOR,),
            now=clock.now(),
        )
        for where, tid, name in [(unit, 3002, "钱老师"), (other, 3003, "孙老师")]
    }
    for n, (where, platform) in enumerate([(unit, "wechat"), (other, "weibo"), (other, "douyin")]):
        await seed_account(
            app.sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=where,
            responsible_id=people[where],
            name=f"政务号{n}",
            platform=platform,
            now=clock.now(),
        )
    admin = tg.user(ADMIN_ID, "王主任")
    manager = tg.user(3001, "赵老师")
    assert "账号台账：共 4 个" in (await admin.send("/accounts"))[-1].text
    assert "账号台账：共 2 个" in (await manager.send("/accounts"))[-1].text

    async with app.sessionmaker() as session:
        await session.exec(  # type: ignore[call-overload]
            sa.text("UPDATE accounts SET status = 'suspended' WHERE id = :i"), params={"i": first}
        )
        await session.commit()
    listed = (await admin.send("/accounts"))[-1]
    assert "账号台账：共 4 个" in listed.text
    suspended = (await admin.press(listed, "按状态"))[-1]
    only = (await admin.press(suspended, "暂停"))[-1]
    assert "账号台账：共 1 个" in only.text and f"#{first} " in only.text
