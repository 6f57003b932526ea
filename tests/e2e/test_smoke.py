"""The bot answers /start over HTTP through the fake Bot API."""

import pytest

from tests.conftest import ADMIN_ID
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.both_backends


async def test_admin_from_admin_ids_is_greeted_as_admin(app, tg: FakeTelegram) -> None:
    admin = tg.user(ADMIN_ID, "王主任")
    replies = await admin.send("/start")
    assert "管理员" in replies[-1].text
    assert "/register" in replies[-1].text
