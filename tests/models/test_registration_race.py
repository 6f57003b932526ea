"""Two registrations of one platform id: the one that comes second is told the id is taken,
even when the first committed between its duplicate check and its sibling check."""

from __future__ import annotations

import pytest

from governance.errors import Conflict
from models import accounts, people
from models.accounts import AccountDraft, register_account
from tests.models.test_findings_pii import ADMIN, _account

pytestmark = pytest.mark.both_backends


async def test_an_id_registered_between_the_two_checks_is_refused_as_taken_not_as_a_sibling(
    sessionmaker, clock, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    first = await _account(sessionmaker, now)  # 街道发布, weibo, ref "ref-街道发布"

    async def saw_it_free(*args: object, **kwargs: object) -> None:
        """The duplicate check ran before the first registration committed."""

    monkeypatch.setattr(accounts, "ensure_platform_ref_free", saw_it_free)
    async with sessionmaker() as session:
        existing = await session.get(accounts.Account, first)
        assert existing is not None
        admin = await people.get_user_by_telegram_id(session, ADMIN)
        assert admin is not None
        draft = AccountDraft(
            platform="weibo",
            name="街道发布二号",
            platform_ref="ref-街道发布",
            unit_id=existing.unit_id,
            responsible_id=existing.responsible_id or 0,
            posts_per_week=2,
            necessity="发布政务信息，回应群众关切。",
            operating_plan="每周两条政务动态，办公室编辑，分管领导审核。",
        )
        with pytest.raises(Conflict) as refused:
            await register_account(
                session, actor=await people.actor_for(session, admin), draft=draft, now=now
            )
    assert "同一平台账号不能重复登记" in refused.value.message
