"""``ledger stripe backfill``: the events Stripe kept, into the webhook inbox.

Each event becomes the same inbox row a webhook delivery would (built by the one
``app.services.intake.deliveries.delivery_from_event``), so the worker processes it like
one; an event already stored (delivered, or backfilled before) is not stored again. Stripe keeps
events for 30 days: an older ``since`` is moved up to that, and said so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.payload import TranslationError
from adapters.stripe.shapes import shape_for_version
from app.services.intake.deliveries import NotAnEventError, delivery_from_event
from app.services.stripe_account.desired import ENABLED_EVENTS

RETENTION = timedelta(days=30)
# A little inside the 30 days: a request made at "30 days ago" must not race the edge.
RETENTION_MARGIN = timedelta(minutes=5)


class EventSource(Protocol):
    """Stripe's event log, newest first, a page at a time (``StripeAccount`` has it)."""

    def event_pages(
        self, *, since: int, types: Sequence[str]
    ) -> Iterator[list[dict[str, Any]]]: ...


class BackfillError(ValueError):
    """The request cannot be served (a ``since`` in the future)."""


@dataclass
class BackfillResult:
    since: datetime
    clamped_from: datetime | None = None
    read: int = 0
    stored: int = 0
    already_stored: int = 0
    # Events rendered in an API version the translator cannot read: storing them would
    # make a later, readable webhook delivery of the same event a "duplicate".
    unreadable: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = (
            f"read {self.read} event(s) since {self.since.isoformat()}: {self.stored} stored, "
            f"{self.already_stored} already in the inbox"
        )
        if self.unreadable:
            versions = ", ".join(f"{n} on {v}" for v, n in sorted(self.unreadable.items()))
            text += f"; skipped {sum(self.unreadable.values())} the ledger cannot read ({versions})"
        return text


def clamp_since(since: datetime, now: datetime) -> tuple[datetime, datetime | None]:
    """``since`` within Stripe's retention; the original when it was moved."""
    if since > now:
        msg = f"--since {since.isoformat()} is in the future"
        raise BackfillError(msg)
    oldest = now - RETENTION + RETENTION_MARGIN
    if since < oldest:
        return oldest, since
    return since, None


def backfill(
    account: EventSource,
    inbox: StripeInbox,
    *,
    since: datetime,
    now: datetime,
    on_event: Callable[[], None] | None = None,
) -> BackfillResult:
    """Store every handled event created at or after ``since`` that the inbox lacks."""
    start, clamped_from = clamp_since(since, now)
    result = BackfillResult(since=start, clamped_from=clamped_from)
    for page in account.event_pages(since=int(start.timestamp()), types=ENABLED_EVENTS):
        for event in page:
            result.read += 1
            _store(inbox, event, now, result)
            if on_event is not None:
                on_event()
    return result


def _store(
    inbox: StripeInbox, event: dict[str, object], now: datetime, result: BackfillResult
) -> None:
    version = event.get("api_version")
    if isinstance(version, str):
        try:
            shape_for_version(version)
        except TranslationError:
            _skip(result, version)
            return
    payload = orjson.dumps(event)
    try:
        delivery = delivery_from_event(event, received_at=now, payload=payload)
    except NotAnEventError as error:  # not an event: count it unreadable rather than stop
        _skip(result, f"malformed ({error.detail})")
        return
    if inbox.insert(delivery):
        result.stored += 1
    else:
        result.already_stored += 1


def _skip(result: BackfillResult, why: str) -> None:
    result.unreadable[why] = result.unreadable.get(why, 0) + 1
