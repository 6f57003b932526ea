"""The account card's folded reads give what the separate reads gave, in fewer statements."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.vocabulary import Category, Severity
from models import accounts, findings, people, posts
from models.accounts import Account
from models.feedstate import FeedState
from models.findings import StoredFinding
from models.people import Invitation
from models.posts import Post
from tests.models.test_findings_pii import ADMIN, _account

pytestmark = pytest.mark.both_backends


async def test_the_cards_surroundings_come_in_one_read_as_they_did_in_three(
    sessionmaker, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    account_id = await _account(sessionmaker, now)
    async with sessionmaker() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        session.add(
            FeedState(account_id=account_id, feed_url="http://127.0.0.1/feed", next_poll_at=now)
        )
        await session.commit()
        around = await accounts.card_context(session, account)
        assert around.unit is not None and around.unit.id == account.unit_id
        assert around.state is not None and around.state.feed_url == "http://127.0.0.1/feed"
        assert (around.responsible, around.pending) == await accounts.responsible_of(
            session, account
        )
        assert around.responsible is not None and around.responsible.name == "冯主任"

        admin = await people.get_user_by_telegram_id(session, ADMIN)
        assert admin is not None and admin.id is not None
        invitation = Invitation(
            token="t-card",
            role="editor",
            created_by=admin.id,
            created_at=now,
            expires_at=now + timedelta(days=7),
            person_name="王五",
        )
        session.add(invitation)
        await session.flush()
        account.responsible_id, account.responsible_invitation_id = None, invitation.id
        await session.commit()
        around = await accounts.card_context(session, account)
        assert (around.responsible, around.pending) == (None, "王五")
        assert (around.responsible, around.pending) == await accounts.responsible_of(
            session, account
        )


@pytest.mark.parametrize(
    ("counting", "expect_last"),
    [
        ((False, True, False, True, True, True, True), "g1"),  # a counting post among the 5
        ((False, False, False, False, False, False, True), "g6"),  # only beyond the 5
        ((False, False, False), None),  # none at all, fewer than 5
    ],
)
async def test_the_last_activity_is_read_again_only_when_the_latest_do_not_show_it(
    sessionmaker, clock, counting: tuple[bool, ...], expect_last: str | None
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    account_id = await _account(sessionmaker, now)
    async with sessionmaker() as session:
        for n, counts in enumerate(counting):  # g0 newest
            session.add(
                Post(
                    account_id=account_id,
                    identity=f"g{n}",
                    title=f"第{n}条",
                    published_at=now - timedelta(hours=n),
                    first_seen_at=now,
                    counts_as_activity=counts,
                )
            )
        await session.commit()
        latest, last = await posts.latest_and_last_activity(session, account_id=account_id)
        assert [p.id for p in latest] == [
            p.id for p in await posts.latest(session, account_id=account_id, limit=5)
        ]
        separate = await posts.last_activity_post(session, account_id=account_id)
    assert (last.identity if last else None) == (separate.identity if separate else None)
    assert (last.identity if last else None) == expect_last


@pytest.mark.parametrize("read", [200, 4])  # all open findings in one read; more than one read
async def test_the_open_overview_equals_the_summary_and_the_latest_findings(
    sessionmaker, clock, monkeypatch: pytest.MonkeyPatch, read: int
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(findings, "_OPEN_READ", read)
    now = clock.now()
    account_id = await _account(sessionmaker, now)
    problems = [
        (Category.GAMBLING, Severity.VETO, "甲"),
        (Category.GAMBLING, Severity.VETO, "乙"),
        (Category.TYPO, Severity.GENERAL, "丙"),
        (Category.GAMBLING, Severity.VETO, "甲"),  # the same problem on another post
        (Category.TYPO, Severity.GENERAL, "丁"),
        (Category.TYPO, Severity.GENERAL, "戊"),
    ]
    async with sessionmaker() as session:
        for n, (category, severity, text) in enumerate(problems):
            post = Post(
                account_id=account_id,
                identity=f"p{n}",
                title=text,
                published_at=now,
                first_seen_at=now,
            )
            session.add(post)
            await session.flush()
            session.add(
                StoredFinding(
                    account_id=account_id,
                    post_id=post.id,
                    category=category,
                    severity=severity,
                    rule=f"r.{category}",
                    start=0,
                    end=1,
                    text=text,
                    account_key=f"{account_id}:{category}:{text}",
                    found_at=now,
                )
            )
        await session.commit()
        summary, latest = await findings.open_overview(session, account_id=account_id, limit=3)
        assert summary == await findings.open_summary(session, account_id=account_id)
        assert [f.id for f in latest] == [
            f.id for f in await findings.open_findings(session, account_id=account_id, limit=3)
        ]
    assert [(str(c), n) for c, _s, n in summary] == [("gambling", 2), ("typo", 3)]
