"""The outbox sender as it was before fair scheduling (issue 17), kept as the baseline that
``bench/alert_throughput.py`` and the regression check compare the product with.

It took the first 100 due rows in queue order, skipped a row whose chat was paced, noted the
send before asking Telegram, and waited a second after a pass that could send nothing: ten rows
for one chat in a row left the ceiling idle while that chat's per-second limit ran out.
"""

from __future__ import annotations

from bot.outbox import OutboxSender, _Result
from models import outbox


class LegacySender(OutboxSender):
    async def send_due(self, limit: int | None = 100, *, refresh: bool = True) -> int:
        self._next_wait = self.interval
        async with self.sessionmaker() as session:
            due = await outbox.due_messages(session, now=self.clock.now(), limit=limit or 100)
        sent = 0
        for message in due:
            assert message.id is not None
            if not self.pacer.allowed(message.chat_id, self.clock.monotonic()):
                continue
            self.pacer.note(message.chat_id, self.clock.monotonic())
            self._attempts += 1
            if await self._deliver(message.id) is _Result.SENT:
                sent += 1
        return sent
