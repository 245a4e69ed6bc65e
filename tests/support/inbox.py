"""Putting deliveries in the inbox exactly as the webhook route would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from adapters.persistence.inbox import StripeInbox
from app.routes.webhooks import delivery_from_event


def deliver(inbox: StripeInbox, event: dict[str, Any]) -> bool:
    delivery = delivery_from_event(
        event, received_at=datetime.now(UTC), payload=orjson.dumps(event)
    )
    return inbox.insert(delivery)
