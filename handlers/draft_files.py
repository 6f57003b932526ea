"""A draft's file in /submit: downloaded (after its size is checked), read by place off the
event loop (:mod:`documents.drafts`), and acknowledged with what was read, or refused with
the reason."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Document
from aiogram.utils.i18n import gettext as _

from documents.drafts.child import DraftReader
from governance.drafttext import REFUSAL_MESSAGES, DocText, Readable, Refusal
from governance.errors import InvalidInput
from governance.i18n import N_
from handlers.render import esc

MB = 1024 * 1024


async def read_draft_file(bot: Bot, document: Document, drafts: DraftReader) -> DocText:
    """The document's text for the pre-check; refused (nothing stored) when it is too big, a
    zip bomb, has macros, is encrypted or broken. The size is checked before downloading."""
    max_bytes = drafts.limits.max_bytes
    if document.file_size and document.file_size > max_bytes:
        raise InvalidInput(
            REFUSAL_MESSAGES[Refusal.TOO_BIG],
            size=f"{document.file_size / MB:.1f}",
            max=max_bytes // MB,
        )
    try:
        buffer = await bot.download(document.file_id)
    except TelegramAPIError:
        raise InvalidInput(N_("文件下载失败，请重新发送。")) from None
    assert buffer is not None
    return await drafts.read(buffer.read(), document.file_name or "")


def document_ack(name: str, doc: DocText) -> str:
    if doc.readable == Readable.NO_TEXT:
        return _(
            "已收到文件《{name}》：这是扫描件（没有文字层），无法自动预检，审核人需人工审核全文。"
        ).format(name=esc(name))
    if doc.readable == Readable.NOT_CONVERTED:
        return _(
            "已收到文件《{name}》：旧版格式（.doc/.wps）本机无法转换，无法自动预检，"
            "审核人需人工审核全文；另存为 .docx 后发送可以自动预检。"
        ).format(name=esc(name))
    return _("已收到文件《{name}》：已读取 {chars} 字，将一并预检。").format(
        name=esc(name), chars=doc.chars
    )
