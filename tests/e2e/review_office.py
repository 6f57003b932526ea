"""A unit ready for pre-publication review: a manager, an editor, approvers, an account and a
route, seeded through the same model functions the bot uses; and the chat steps of /submit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from governance.review import StageRule, StageSpec
from governance.roles import Role
from models import people, routes
from tests.conftest import ADMIN_ID
from tests.documents.samples import make_docx
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes.telegram import Call, FakeTelegram, FakeUser

MANAGER_TG = 3001
EDITOR_TG = 3002
APPROVER_TG = 3101


@dataclass
class Office:
    unit_id: int
    account_id: int
    manager: FakeUser
    editor: FakeUser
    approvers: list[FakeUser]
    ids: dict[int, int] = field(default_factory=dict)  # telegram id -> users.id


async def save_route(
    app: Any, clock: Any, unit_id: int, stages: list[StageSpec], **options: Any
) -> None:
    async with app.sessionmaker() as session:
        admin = await people.get_user_by_telegram_id(session, ADMIN_ID)
        assert admin is not None
        await routes.save_route(
            session,
            actor=await people.actor_for(session, admin),
            unit_id=unit_id,
            account_id=None,
            stages=stages,
            restart_from_first=options.get("restart_from_first", True),
            require_review=options.get("require_review", True),
            version=None,
            now=clock.now(),
        )
        await session.commit()


async def office(
    app: Any,
    tg: FakeTelegram,
    clock: Any,
    *,
    approvers: int = 3,
    stages: list[tuple[str, list[int], StageRule]] | None = None,
    sla_hours: int = 24,
    **options: Any,
) -> Office:
    """Stages name approvers by their index in ``approvers`` (default: one each, in order)."""
    now = clock.now()
    sm = app.sessionmaker
    unit = await seed_unit(sm, "某区教育局", now)
    ids: dict[int, int] = {}
    ids[MANAGER_TG] = await seed_person(
        sm, telegram_id=MANAGER_TG, name="赵主任", unit_id=unit, roles=(Role.UNIT_MANAGER,), now=now
    )
    ids[EDITOR_TG] = await seed_person(
        sm, telegram_id=EDITOR_TG, name="钱编辑", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    names = ["孙初审", "李复审", "周终审", "吴审核", "郑审核"]
    users = []
    for n in range(approvers):
        tg_id = APPROVER_TG + n
        ids[tg_id] = await seed_person(
            sm, telegram_id=tg_id, name=names[n], unit_id=unit, roles=(Role.APPROVER,), now=now
        )
        users.append(tg.user(tg_id, names[n]))
    account = await seed_account(
        sm,
        admin_telegram_id=ADMIN_ID,
        unit_id=unit,
        responsible_id=ids[EDITOR_TG],
        name="教育发布",
        platform="wechat",
        now=now,
    )
    if stages is None:
        stages = [(n, [i], StageRule.ANY) for i, n in enumerate(["初审", "复审", "终审"])]
    specs = [
        StageSpec(
            name=name,
            rule=rule,
            sla_hours=sla_hours,
            approver_ids=tuple(ids[APPROVER_TG + i] for i in who),
        )
        for name, who, rule in stages
    ]
    await save_route(app, clock, unit, specs, **options)
    return Office(
        unit_id=unit,
        account_id=account,
        manager=tg.user(MANAGER_TG, "赵主任"),
        editor=tg.user(EDITOR_TG, "钱编辑"),
        approvers=users,
        ids=ids,
    )


PHOTO = {"photo": [{"file_id": "ph1", "file_unique_id": "uph1", "width": 800, "height": 600}]}


@dataclass(frozen=True)
class Upload:
    """A file the user uploads as a draft part (stored by the fake server, read by the bot)."""

    content: bytes
    name: str
    caption: str | None = None


DOCX = Upload(make_docx(paragraphs=["活动安排：上午参观校园，下午座谈。"]), "活动方案.docx")

Part = str | dict[str, Any] | Upload


async def send_parts(user: FakeUser, parts: list[Part]) -> Call:
    """Send the draft's messages; return the last acknowledgement (it has the 完成 button)."""
    last = None
    for part in parts:
        if isinstance(part, Upload):
            replies = await user.send_document(part.content, part.name, caption=part.caption)
        elif isinstance(part, str):
            replies = await user.send(part)
        else:
            replies = await user.send(None, **part)
        last = replies[-1]
    assert last is not None and "完成" in str(last.buttons), last.text if last else None
    return last


async def submit(
    user: FakeUser,
    *,
    account: str = "教育发布",
    parts: list[Part],
    title: str = "关于开展校园开放日活动的通知",
    planned: str | None = None,
    anyway: bool = False,
) -> str:
    """Walk /submit to the end; return the review number."""
    replies = await user.send("/submit")
    replies = await user.press(replies[-1], account)
    ack = await send_parts(user, parts)
    replies = await user.press(ack, "完成")
    await user.send(title)
    if planned is None:
        prompt = user.tg.sent_to(user.id)[-1]
        replies = await user.press(prompt, "不设定")
    else:
        replies = await user.send(planned)
    summary = replies[-1]
    assert "自动预检" in summary.text, summary.text
    replies = await user.press(summary, "仍然提交" if anyway else "提交送审")
    match = re.search(r"SH-\d{4}-\d{4}", replies[-1].text)
    assert match, replies[-1].text
    return match.group(0)


async def card(user: FakeUser, *, since: int, number: str | None = None) -> Call:
    """Wait for this person's review card (the message with the 通过 button)."""

    def is_card(c: Call) -> bool:
        return (
            c.method == "sendMessage"
            and c.chat_id == user.id
            and any(b["text"].strip("✅ ") == "通过" for b in c.buttons)
            and (number is None or number in c.text)
        )

    return await user.tg.wait_for(is_card, since=since)
