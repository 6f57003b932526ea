"""The history sweep across replicas: one walks while it holds the lease, a silent one is taken
over after the lease, and a word change mid-sweep restarts the walk with the newer lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from governance.roles import Actor, Role
from jobs.history_sweep import LEASE, sweep_history
from models import posts, wordlists
from models.findings import FindingStatus, StoredFinding
from models.posts import NewPost, Post
from models.sweeps import HistorySweep
from models.wordlists import RuleKind
from tests.conftest import make_settings
from tests.e2e.seed import seed_account, seed_person, seed_unit
from workflows.checker import LiveChecker

TEXTS = ("甲区推出夜游项目。", "乙区推出夜市项目。", "丙区两者都有：夜游、夜市。")


async def _office(sessionmaker, clock) -> Actor:
    now = clock.now()
    unit = await seed_unit(sessionmaker, "某区文旅局", now)
    person = await seed_person(
        sessionmaker, telegram_id=7, name="王主任", unit_id=None, roles=(Role.ADMIN,), now=now
    )
    responsible = await seed_person(
        sessionmaker, telegram_id=8, name="李老师", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    account = await seed_account(
        sessionmaker,
        admin_telegram_id=7,
        unit_id=unit,
        responsible_id=responsible,
        name="某区文旅发布",
        now=now,
    )
    async with sessionmaker() as session:
        await posts.insert_many(
            session,
            posts={
                account: [
                    NewPost(f"p{i}", f"动态{i}", None, None, now, True, text, True)
                    for i, text in enumerate(TEXTS)
                ]
            },
            now=now,
        )
        await session.commit()
    return Actor(user_id=person, unit_id=None, roles=frozenset({Role.ADMIN}))


async def _add(sessionmaker, clock, actor: Actor, word: str) -> None:
    async with sessionmaker() as session:
        await wordlists.add_rule(
            session, actor=actor, kind=RuleKind.WORD, word=word, category="ad", now=clock.now()
        )
        await session.commit()


@pytest.mark.both_backends
async def test_replicas_share_the_walk_and_a_change_restarts_it(
    sessionmaker, clock, database_url: str
) -> None:
    settings = make_settings(database_url, "http://127.0.0.1:9")
    actor = await _office(sessionmaker, clock)
    a, b = LiveChecker(), LiveChecker()

    async def run(live: LiveChecker, replica: str, max_batches: int | None = None):
        return await sweep_history(
            sessionmaker=sessionmaker,
            clock=clock,
            live=live,
            settings=settings,
            replica=replica,
            batch=1,
            max_batches=max_batches,
        )

    assert not (await run(a, "a")).started, "baseline"
    await _add(sessionmaker, clock, actor, "夜游")
    first = await run(a, "a", max_batches=1)
    assert first.started and first.posts == 1
    assert (await run(b, "b")).posts == 0, "a holds the lease: b leaves the walk alone"

    # a change while a walks: the next run restarts from the first post with both words
    await _add(sessionmaker, clock, actor, "夜市")
    restarted = await run(a, "a", max_batches=1)
    assert restarted.started and restarted.posts == 1
    async with sessionmaker() as session:
        row = await session.get(HistorySweep, 1)
        assert row is not None and row.cursor == 1 and row.done == 1

    # a goes silent; once its lease has run out, b takes the walk over where a left it
    assert (await run(b, "b")).posts == 0
    clock.advance(LEASE + timedelta(seconds=1))
    rest = await run(b, "b")
    assert rest.finished and rest.posts == 2 and not rest.started

    async with sessionmaker() as session:
        found = list(
            await session.exec(
                select(StoredFinding.post_id, StoredFinding.text).where(
                    col(StoredFinding.status) == FindingStatus.OPEN
                )
            )
        )
    assert sorted(found) == [(1, "夜游"), (2, "夜市"), (3, "夜市"), (3, "夜游")]


@pytest.mark.both_backends
async def test_a_new_allow_phrase_withdraws_what_it_covers_even_where_the_body_expired(
    sessionmaker, clock, database_url: str
) -> None:
    settings = make_settings(database_url, "http://127.0.0.1:9")
    actor = await _office(sessionmaker, clock)
    live = LiveChecker()

    async def run():
        return await sweep_history(
            sessionmaker=sessionmaker, clock=clock, live=live, settings=settings
        )

    await run()
    await _add(sessionmaker, clock, actor, "夜游")
    assert (await run()).found == 2
    async with sessionmaker() as session:  # post 3's body has expired meanwhile
        await session.exec(
            sa.update(Post).where(col(Post.id) == 3).values(body=None)  # type: ignore[arg-type]
        )
        await session.commit()
        await wordlists.add_rule(
            session, actor=actor, kind=RuleKind.ALLOW, word="推出夜游项目", now=clock.now()
        )
        await wordlists.add_rule(
            session, actor=actor, kind=RuleKind.ALLOW, word="夜游、夜市", now=clock.now()
        )
        await session.commit()
    swept = await run()
    assert swept.finished and swept.withdrawn == 2, swept
    async with sessionmaker() as session:
        statuses = {
            f.post_id: f.status
            for f in await session.exec(select(StoredFinding).where(StoredFinding.text == "夜游"))
        }
    assert statuses == {1: FindingStatus.WITHDRAWN, 3: FindingStatus.WITHDRAWN}


async def test_a_sweep_finding_never_stores_personal_data_in_its_excerpt(
    sessionmaker, clock, database_url: str
) -> None:
    settings = make_settings(database_url, "http://127.0.0.1:9")
    actor = await _office(sessionmaker, clock)
    id_number = "110101199003071233"
    async with sessionmaker() as session:
        await posts.insert_many(
            session,
            posts={
                1: [
                    NewPost(
                        "pii",
                        "报名",
                        None,
                        None,
                        clock.now(),
                        True,
                        f"联系人身份证号：{id_number}，夜游报名。",
                        True,
                    )
                ]
            },
            now=clock.now(),
        )
        await session.commit()
    live = LiveChecker()

    async def run():
        return await sweep_history(
            sessionmaker=sessionmaker, clock=clock, live=live, settings=settings
        )

    await run()
    await _add(sessionmaker, clock, actor, "夜游")
    assert (await run()).finished
    async with sessionmaker() as session:
        [finding] = await session.exec(
            select(StoredFinding).where(StoredFinding.post_id == 4, StoredFinding.text == "夜游")
        )
    assert id_number not in finding.excerpt and "夜游报名" in finding.excerpt
