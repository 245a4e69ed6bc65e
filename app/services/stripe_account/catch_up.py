"""The worker's backfill after downtime: once per leadership, as the leader.

How long the ledger was away is read from the inbox: the newest ``received_at`` is the
last time it stored anything from Stripe (a webhook, or an earlier backfill). If that is
longer ago than ``LEDGER_BACKFILL_AFTER`` (default 1h), the events since then (with an
overlap, for deliveries that were in flight) are read from ``GET /v1/events``. A quiet
account costs one list call per worker start, and an empty inbox (a new ledger) none:
there is nothing it could have missed that ``ledger stripe backfill`` should not decide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from threading import Event
from typing import TYPE_CHECKING, Protocol

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.persistence.inbox import StripeInbox
from app.services.stripe_account.backfill import BackfillResult, EventSource, backfill
from app.settings import Settings

if TYPE_CHECKING:
    from adapters.stripe.gateway import StripeGateway

log = logging.getLogger("ledger.backfill")
# Events created shortly before the last delivery may still have been on their way.
OVERLAP = timedelta(hours=1)
RETRY_S = 5.0
MAX_RETRY_S = 30.0


def catch_up_since(
    inbox: StripeInbox, *, now: datetime, after: timedelta | None
) -> datetime | None:
    """Where a backfill should start, or None when none is due."""
    if after is None:
        return None
    last = inbox.last_received_at()
    if last is None or now - last < after:
        return None
    return last - OVERLAP


def catch_up(
    account: EventSource,
    inbox: StripeInbox,
    *,
    clock: Callable[[], datetime],
    after: timedelta | None,
) -> BackfillResult | None:
    """Backfill if the ledger heard nothing from Stripe for longer than ``after``."""
    now = clock()
    since = catch_up_since(inbox, now=now, after=after)
    if since is None:
        return None
    log.info("nothing stored from Stripe since %s: backfilling", since + OVERLAP)
    result = backfill(account, inbox, since=since, now=now)
    if result.clamped_from is not None:
        log.warning(
            "down for longer than Stripe keeps events: events before %s are gone",
            result.since.isoformat(),
        )
    log.info("backfill: %s", result.summary())
    return result


class CatchUpDeps(Protocol):
    """What the worker's backfill loop uses (the container satisfies it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> SQLiteDatabase | PostgresDatabase: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    def stripe_gateway(self) -> StripeGateway | None: ...


def run_once(deps: CatchUpDeps, *, stop: Event, idle: Callable[[float], bool]) -> None:
    """The worker's ``backfill`` loop: catch up once (retrying Stripe failures with
    backoff), then only show it is alive until stopped."""
    from adapters.stripe.account import StripeAccount
    from adapters.stripe.gateway import StripeCallError

    gateway = deps.stripe_gateway()
    try:
        backoff = RETRY_S
        while gateway is not None and not stop.is_set():
            try:
                catch_up(
                    StripeAccount(gateway),
                    StripeInbox(deps.database),
                    clock=deps.clock,
                    after=deps.settings.backfill_after,
                )
                break
            except StripeCallError as error:  # Stripe's trouble: try again, later
                log.warning("backfill: Stripe failed (%s); retrying in %.0fs", error, backoff)
                if idle(backoff):
                    return
                backoff = min(backoff * 2, MAX_RETRY_S)
    finally:
        if gateway is not None:
            gateway.close()
    while not idle(MAX_RETRY_S):
        pass  # returning would make the supervisor run this loop (and backfill) again
