"""Putting deliveries in the inbox exactly as the webhook route would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from adapters.persistence.inbox import StripeInbox
from app.entrypoints.http.requests import parse_json
from app.entrypoints.http.routes.webhooks import delivery_from_event


def deliver(inbox: StripeInbox, event: dict[str, Any]) -> bool:
    """Store ``event`` as the route would: the bytes (stdlib JSON, which writes integers
    of any size, as a sender could), parsed back with the route's own parser."""
    body = json.dumps(event).encode()
    delivery = delivery_from_event(parse_json(body), received_at=datetime.now(UTC), payload=body)
    return inbox.insert(delivery)
