"""Where a Stripe event body becomes an inbox row: the envelope checked and kept in the
inbox's own columns, the exact bytes kept as the payload (webhook route and backfill alike).
Translating the stored row into domain events is ``stripe_inbox``'s job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.persistence.inbox import InboxDelivery
from domain.limits import LATEST_INSTANT, id_problem


class NotAnEventError(ValueError):
    """The body is not a Stripe event; the message says which part is wrong."""

    @property
    def detail(self) -> str:
        return str(self)


def delivery_from_event(
    event: Any, *, received_at: datetime, payload: bytes = b""
) -> InboxDelivery:
    """The inbox row for a parsed body, or :class:`NotAnEventError` when it is not a Stripe
    event (the webhook route answers 400, a backfill counts it unreadable)."""
    if not isinstance(event, dict):
        raise NotAnEventError("the body is not a JSON object")
    event_id, event_type, created = event.get("id"), event.get("type"), event.get("created")
    if event.get("object") != "event":
        raise NotAnEventError('object must be "event"')
    # The envelope goes into the inbox's own columns (the body is kept as bytes), so its
    # values must be ones every store can hold: printable, bounded, in range.
    if not isinstance(event_id, str) or not event_id.startswith("evt_") or id_problem(event_id):
        raise NotAnEventError("id must be an evt_ identifier of printable characters")
    if not isinstance(event_type, str) or id_problem(event_type):
        raise NotAnEventError("type must be a non-empty string of printable characters")
    if (
        not isinstance(created, int)
        or isinstance(created, bool)
        or not 0 < created < LATEST_INSTANT.timestamp()
    ):
        raise NotAnEventError("created must be a positive unix timestamp")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise NotAnEventError("data.object must be an object")
    api_version, account = event.get("api_version"), event.get("account")
    for name, value in (("api_version", api_version), ("account", account)):
        if isinstance(value, str) and id_problem(value):
            raise NotAnEventError(f"{name} must be a string of printable characters")
    return InboxDelivery(
        event_id=event_id,
        type=event_type,
        api_version=api_version if isinstance(api_version, str) else None,
        created=created,
        livemode=bool(event.get("livemode", False)),
        account=account if isinstance(account, str) else None,
        payload=payload,  # the exact bytes received (they are what the signature covers)
        received_at=received_at.isoformat(),
    )
