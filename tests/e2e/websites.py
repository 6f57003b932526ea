"""Driving the website jobs from tests: the office, its website on the site farm, one cycle."""

from __future__ import annotations

import random
from datetime import datetime

from sqlmodel import col, select

from bot.app import BotApp
from governance.clock import ManualClock
from governance.roles import Role
from governance.websites import ColumnClass
from jobs.columns import ColumnTick, watch_columns
from jobs.websites import ProbeSummary, WebsiteEvaluation, evaluate_websites, probe_websites
from models import people
from models.websites import Website, WebsiteColumn
from tests.conftest import ADMIN_ID
from tests.e2e.seed import seed_person, seed_unit
from workflows.websites import WebsiteDraft, add_column, register_website

RESPONSIBLE, MANAGER = 3101, 3102


async def website_office(
    app: BotApp,
    clock: ManualClock,
    *,
    name: str,
    home_url: str,
    columns: list[tuple[str, str, ColumnClass]],
) -> tuple[int, dict[str, int]]:
    """A unit, its responsible person and manager, and a website with ``columns``
    (name, list-page URL, class), registered through the same workflows as the chat."""
    sm = app.sessionmaker
    assert sm is not None
    now = clock.now()
    unit = await seed_unit(sm, "某区人民政府办公室", now)
    responsible = await seed_person(
        sm, telegram_id=RESPONSIBLE, name="王网管", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    await seed_person(
        sm, telegram_id=MANAGER, name="赵主任", unit_id=unit, roles=(Role.UNIT_MANAGER,), now=now
    )
    async with sm() as session:
        admin = await people.get_user_by_telegram_id(session, ADMIN_ID)
        assert admin is not None
        actor = await people.actor_for(session, admin)
        account, _site = await register_website(
            session,
            actor=actor,
            draft=WebsiteDraft(
                name=name, home_url=home_url, unit_id=unit, responsible_id=responsible
            ),
            now=now,
        )
        ids = {}
        for column_name, url, kind in columns:
            column = await add_column(
                session,
                actor=actor,
                account_id=account.id or 0,
                name=column_name,
                url=url,
                kind=kind,
                now=now,
            )
            ids[column_name] = column.id or 0
        await session.commit()
    return account.id or 0, ids


async def watch(app: BotApp, clock: ManualClock) -> ColumnTick:
    assert app.sessionmaker is not None and app.http is not None
    return await watch_columns(
        sessionmaker=app.sessionmaker,
        clock=clock,
        settings=app.settings,
        http=app.http,
        rng=random.Random(5),
        hooks=app.post_hooks,
    )


async def evaluate(app: BotApp, clock: ManualClock) -> WebsiteEvaluation:
    assert app.sessionmaker is not None and app.sender is not None
    result = await evaluate_websites(
        sessionmaker=app.sessionmaker, clock=clock, settings=app.settings
    )
    app.sender.wake()
    return result


async def probe_until(
    app: BotApp, clock: ManualClock, until: datetime, rng: random.Random, before_visit=None
) -> ProbeSummary:
    """Visit home pages at their scheduled moments until ``until``, moving the clock to each."""
    assert app.sessionmaker is not None and app.http is not None
    total = ProbeSummary()
    while True:
        async with app.sessionmaker() as session:
            due = (
                await session.exec(
                    select(Website.next_probe_at).order_by(col(Website.next_probe_at))
                )
            ).first()
        if due is None or due > until:
            break
        if due > clock.now():
            clock.advance(due - clock.now())
        if before_visit is not None:
            before_visit(clock.now())
        done = await probe_websites(
            sessionmaker=app.sessionmaker,
            clock=clock,
            settings=app.settings,
            http=app.http,
            rng=rng,
        )
        total.visited += done.visited
        total.failed += done.failed
        total.alerts += done.alerts
    if until > clock.now():
        clock.advance(until - clock.now())
    return total


async def columns(app: BotApp, account_id: int) -> dict[str, WebsiteColumn]:
    assert app.sessionmaker is not None
    async with app.sessionmaker() as session:
        rows = await session.exec(
            select(WebsiteColumn).where(WebsiteColumn.account_id == account_id)
        )
        return {c.name: c for c in rows}


async def website(app: BotApp, account_id: int) -> Website:
    assert app.sessionmaker is not None
    async with app.sessionmaker() as session:
        site = await session.get(Website, account_id)
        assert site is not None
        return site
