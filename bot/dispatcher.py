"""The one ``build_dispatcher()``: production and tests run the same middlewares and routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dialogs import DialogLock, DialogState, PrivateDialogs
from bot.i18n import LocaleMiddleware
from bot.middlewares import ActorMiddleware, DbSessionMiddleware, UpdateOnceMiddleware
from bot.settings import Settings
from documents.drafts.child import DraftReader
from documents.drafts.reader import Limits
from governance.clock import Clock
from handlers import (
    accounts,
    approvals,
    cases,
    channels,
    digest,
    errors,
    fallback,
    invitations,
    ledger,
    monitoring,
    registration,
    reports,
    repostfix,
    reposts,
    review_decide,
    review_delegate,
    review_queue,
    review_record,
    review_routes,
    review_submit,
    start,
    units,
    users,
    websites,
    words,
)
from workflows.checker import LiveChecker


def _detached(router: Router) -> Router:
    """Free a module-level router from a previous dispatcher.

    Handler modules keep aiogram's idiom of one module-level ``Router``; a process may build more
    than one dispatcher over its life (the test suite, a restart in place), and aiogram lets a
    router have one parent only, so it leaves the old, stopped dispatcher first.
    """
    old = router.parent_router
    if old is not None:
        old.sub_routers.remove(router)
        router._parent_router = None
    return router


def build_dispatcher(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    storage: BaseStorage,
    i18n: I18n,
    feed_probe: Callable[[str], Any],
    live_checker: LiveChecker,
    feed_guard: Callable[[str], Any],
    feed_check: Callable[[int], Awaitable[Any]] | None = None,
    after_commit: Callable[[], None] | None = None,
    activity: BaseMiddleware | None = None,
    events_isolation: BaseEventIsolation | None = None,
    replica: str = "local",
) -> Dispatcher:
    dp = Dispatcher(
        storage=storage,
        events_isolation=events_isolation,
        disable_fsm=True,  # in two halves below, around the update's session (bot.dialogs)
        settings=settings,
        clock=clock,
        i18n=i18n,
        feed_probe=feed_probe,
        live_checker=live_checker,
        feed_check=feed_check,
        feed_guard=feed_guard,  # the SSRF guard's address rules, for feed URLs stored unfetched
        checker=live_checker.holder,  # the live content checker: /words changes apply at once
        drafts=DraftReader(  # drafts' .docx/.pdf files, read in child processes
            limits=Limits(
                max_bytes=settings.review_file_max_mb * 1024 * 1024,
                max_pages=settings.review_file_max_pages,
                timeout=settings.review_file_timeout,
            )
        ),
    )
    # where aiogram puts its FSM middleware: one update per chat at a time, until its commit
    dp.update.outer_middleware(
        DialogLock(
            storage=dp.fsm.storage,
            events_isolation=dp.fsm.events_isolation,
            strategy=dp.fsm.strategy,
        )
    )
    if activity is not None:  # an update counts until its commit is done
        dp.update.outer_middleware(activity)
    dp.update.outer_middleware(LocaleMiddleware(i18n=i18n))
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker, after_commit=after_commit))
    dp.update.outer_middleware(DialogState())
    single_poller = settings.bot_mode != "webhook" and settings.database_url.startswith("sqlite")
    dp.update.outer_middleware(
        UpdateOnceMiddleware(replica=replica, clock=clock, record=not single_poller)
    )
    dp.update.outer_middleware(ActorMiddleware(admin_ids=settings.admin_ids, clock=clock))
    # a button pressed in a group that starts a dialog continues it in private
    dp.callback_query.outer_middleware(PrivateDialogs())
    # Order matters: /start, /help and /cancel work from any dialog step; catch-alls go last.
    routers = (
        errors.router,
        start.router,
        units.router,
        invitations.router,
        users.router,
        registration.router,
        accounts.router,
        approvals.router,
        words.router,
        monitoring.router,
        ledger.router,
        cases.router,
        digest.router,
        review_routes.router,
        review_submit.router,
        review_decide.router,
        review_queue.router,
        review_record.router,
        review_delegate.router,
        reports.router,
        reposts.router,
        repostfix.router,
        channels.router,
        websites.router,
        fallback.router,
    )
    dp.include_routers(*(_detached(r) for r in routers))
    return dp
