"""The Bot API session keeps the ``Response[T]`` models it validated with: a garbage collection
between two answers does not make pydantic rebuild one (milliseconds of CPU per answer)."""

from __future__ import annotations

import gc
import json
from typing import Any

import pydantic._internal._generics as pydantic_generics
import pytest
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, GetUpdates, SendMessage

from bot.telegram import BotApiSession
from tests.fakes.telegram import TOKEN

MESSAGE = {
    "message_id": 1,
    "date": 1_700_000_000,
    "chat": {"id": 42, "type": "private"},
    "text": "ok",
}


def test_answers_after_a_collection_reuse_the_response_models(monkeypatch) -> None:
    built: list[str] = []
    create = pydantic_generics.create_generic_submodel

    def counting(name: str, *args: Any) -> Any:
        built.append(name)
        return create(name, *args)

    monkeypatch.setattr(pydantic_generics, "create_generic_submodel", counting)
    session = BotApiSession()
    bot = Bot(TOKEN, session=session)
    answers = [
        (SendMessage(chat_id=42, text="ok"), MESSAGE),
        (GetUpdates(), []),
        (AnswerCallbackQuery(callback_query_id="q"), True),
    ]
    for method, result in answers:
        session.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
    gc.collect()
    built.clear()
    for method, result in answers:
        session.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
    assert built == [], "no Response model was rebuilt"


@pytest.fixture(autouse=True)
def _collect() -> None:
    gc.collect()  # whatever earlier tests left parametrized is gone before this one
