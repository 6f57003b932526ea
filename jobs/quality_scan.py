"""Check every new post for defects; store findings; alert at once on new veto problems.

Runs as a poller hook once the posts are committed, in its own transaction. The title and the HTML
body are checked together as one document (title, blank line, body text) so every finding's
span and excerpt point into text a person can read; HTML is checked as HTML so hidden and
off-list links are found. Checking is CPU work (a few MB/s), so it runs in a worker thread, and
before the hook's write transaction (:meth:`QualityScan.prepare`), so no lock waits on it.
Non-veto findings wait for the digest; veto findings (单项否决) reach the responsible person,
the unit managers and the office the moment they are first seen, and open a rectification case.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import VETO_AUDIENCE
from governance.cases import CaseKind, CasePolicy
from governance.quality import Checker, Finding, extract, extract_links
from jobs.polltypes import StoredItem
from jobs.slices import LoopShare
from models import cases, findings, links
from models.accounts import Account
from models.people import Unit
from models.posts import Post
from workflows import cases as rectification
from workflows.audience import To
from workflows.checker import LiveChecker
from workflows.notices import VetoFinding, VetoProblem
from workflows.notify import notify


@dataclasses.dataclass(frozen=True, slots=True)
class Checked:
    """A post as a person reads it (title, blank line, body), its findings and its links."""

    document: str
    findings: list[Finding]
    links: list[tuple[str, str, int, int]]  # url, visible text, start, end in ``document``


def check_document(
    checker: Checker, *, title: str, html: str, text: str, allowed_domains: frozenset[str]
) -> Checked:
    head = title.strip()
    if html.strip():
        body, body_links = extract(html)  # parsed once: the text, the checks and the links
        body_findings = checker.check_extracted(body, body_links, allowed_domains=allowed_domains)
    else:
        body = text
        body_findings = checker.check_text(text)
        body_links = extract_links(text)
    offset = len(head) + 2 if head else 0
    document = f"{head}\n\n{body}" if head else body
    shifted = [
        dataclasses.replace(f, start=f.start + offset, end=f.end + offset) for f in body_findings
    ]
    found = (checker.check_text(head) if head else []) + shifted
    return Checked(
        document=document,
        findings=[f for f in found if document[f.start : f.end] == f.text],
        links=[(k.url, k.text, k.start + offset, k.end + offset) for k in body_links],
    )


#: A post longer than this (HTML and text, in characters) is checked in a thread even when the
#: checks run on the loop: a few milliseconds of checking at most stay on the loop.
ON_LOOP_MAX_CHARS = 50_000


def own_domains(account: Account) -> frozenset[str]:
    """Links to the account's own site are never off-list."""
    host = urlsplit(account.platform_ref).hostname if "://" in account.platform_ref else None
    return frozenset({host.removeprefix("www.")}) if host else frozenset()


class QualityScan:
    """The poller hook; ``alert_chat_id`` is the office's alert chat (or None: each admin)."""

    def __init__(
        self, *, live: LiveChecker, alert_chat_id: int | None, cases: CasePolicy | None = None
    ) -> None:
        self.live = live
        self.alert_chat_id = alert_chat_id
        self.cases = cases or CasePolicy(alert_chat_id=alert_chat_id)

    def __repr__(self) -> str:
        return "QualityScan()"

    async def prepare(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        account_id: int,
        stored: Sequence[StoredItem],
        share: LoopShare | None = None,
    ) -> list[tuple[int, Checked]] | None:
        """The checks, before the hook's write transaction (no lock held meanwhile)."""
        async with sessionmaker() as session:
            account = await session.get(Account, account_id)
        if account is None or not stored:
            return None
        return await self._check(account, stored, share=share)

    async def _check(
        self, account: Account, stored: Sequence[StoredItem], *, share: LoopShare | None = None
    ) -> list[tuple[int, Checked]]:
        """Each post's checks: on the loop in slices when the poll tick shares it with the chat
        (``share``: the replies go first between posts; a post too large to check within a
        slice still goes to a thread, so no single document stops the loop), else in a
        thread."""
        checker, allowed = self.live.holder.current, own_domains(account)

        def one(s: StoredItem) -> tuple[int, Checked]:
            return s.post_id, check_document(
                checker,
                title=s.item.title,
                html=s.item.body_html,
                text=s.item.body_text,
                allowed_domains=allowed,
            )

        if share is None:
            return await asyncio.to_thread(lambda: [one(s) for s in stored])
        checked = []
        for s in stored:
            await share.slice()
            large = len(s.item.body_html) + len(s.item.body_text) > ON_LOOP_MAX_CHARS
            checked.append(await asyncio.to_thread(one, s) if large else one(s))
        return checked

    async def __call__(
        self,
        session: AsyncSession,
        *,
        account_id: int,
        stored: Sequence[StoredItem],
        now: datetime,
        prepared: list[tuple[int, Checked]] | None = None,
    ) -> None:
        account = await session.get(Account, account_id)
        if account is None or not stored:
            return
        checked_posts = prepared if prepared is not None else await self._check(account, stored)
        new_vetoes: list[tuple[int, findings.StoredFinding]] = []
        masks: dict[int, dict[str, str]] = {}
        for post_id, checked in checked_posts:
            masks[post_id] = findings.pii_masks(checked.findings)
            await links.record_links(
                session, post_id=post_id, account_id=account_id, links=checked.links
            )
            fresh = await findings.record_post_findings(
                session,
                account_id=account_id,
                post_id=post_id,
                checked_text=checked.document,
                findings=checked.findings,
                now=now,
            )
            new_vetoes += [(post_id, f) for f in fresh if f.severity == "veto"]
        await self.report_vetoes(session, account, new_vetoes, masks, now)

    async def report_vetoes(
        self,
        session: AsyncSession,
        account: Account,
        new_vetoes: list[tuple[int, findings.StoredFinding]],
        masks: dict[int, dict[str, str]],
        now: datetime,
        *,
        alert: bool = True,
    ) -> None:
        """Veto findings new to the account: one alert per post (unless ``alert`` is False:
        a finding reopened by a history sweep was alerted when first found) and the account's
        content case takes them in. New posts and the history sweep both come through here."""
        if not new_vetoes:
            return
        if alert:
            await self._alert(session, account, new_vetoes, masks, now)
        if account.status in cases.CASE_ACCOUNT_STATUSES:
            # one content case per account takes in every veto problem (idempotent)
            await rectification.ensure_case(
                session,
                account=account,
                kind=CaseKind.CONTENT,
                problems=[cases.finding_problem(f) for _post, f in new_vetoes],
                now=now,
                policy=self.cases,
            )

    async def _alert(
        self,
        session: AsyncSession,
        account: Account,
        vetoes: list[tuple[int, findings.StoredFinding]],
        masks: dict[int, dict[str, str]],
        now: datetime,
    ) -> None:
        """One alert per post, listing every veto-level problem found in it."""
        unit = await session.get(Unit, account.unit_id)
        by_post: dict[int, list[findings.StoredFinding]] = {}
        for post_id, finding in vetoes:
            by_post.setdefault(post_id, []).append(finding)
        for post_id, found in by_post.items():
            post = await session.get(Post, post_id)
            alert = VetoFinding(
                account_id=account.id or 0,
                name=account.name,
                platform=account.platform,
                unit=unit.name if unit else "",
                finding_id=min(f.id or 0 for f in found),
                post_id=post_id,
                problems=[
                    VetoProblem(
                        category=f.category,
                        text=f.text,  # stored masked when it is personal data
                    )
                    for f in found
                ],
                post_title=findings.mask(post.title, masks.get(post_id, {})) if post else "",
                post_link=post.link if post and post.link else "",
            )
            await notify(
                session,
                alert,
                to=To(audience=VETO_AUDIENCE, account=account),
                now=now,
                alert_chat_id=self.alert_chat_id,
            )
