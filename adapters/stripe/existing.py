"""Stripe calls for subscriptions made before the ledger (issue 13): finding them by
``metadata.organizer_id`` and moving their item to the per-group price.

Finding uses Stripe's search (``/v1/subscriptions/search``, ``/v1/customers/search``),
then lists a found customer's subscriptions; every call is one paced gateway call. The
move is ``POST /v1/subscriptions/{id}`` swapping the item's price with
``proration_behavior=none``: Stripe bills the new price from the next renewal on and
charges nothing now (same currency and interval only: another interval resets the
billing cycle and invoices at once, so the use case refuses it before calling).
"""

from __future__ import annotations

from typing import Any

from adapters.stripe.gateway import StripeGateway

# The metadata a moved subscription carries: it says the ledger moved it, and from what.
MOVED_FROM_KEY = "ledger_moved_from_price"


def _query(organizer_id: str) -> str:
    # Search's string literal: a quote or backslash in an id would break out of it.
    escaped = organizer_id.replace("\\", "\\\\").replace("'", "\\'")
    return f"metadata['organizer_id']:'{escaped}'"


def subscriptions_of_organizer(gateway: StripeGateway, organizer_id: str) -> list[dict[str, Any]]:
    """Subscriptions whose own or whose customer's metadata names ``organizer_id``, each
    once, oldest first (at most 3 paced calls plus one per customer found)."""
    query = {"query": _query(organizer_id), "limit": 10}
    found: dict[str, dict[str, Any]] = {}
    subscriptions = gateway.call(gateway.client.v1.subscriptions.search, params=query)
    for subscription in subscriptions.data:
        found[subscription["id"]] = subscription.to_dict()
    customers = gateway.call(gateway.client.v1.customers.search, params=query)
    for customer in customers.data:
        page = gateway.call(
            gateway.client.v1.subscriptions.list, params={"customer": customer["id"], "limit": 10}
        )
        for subscription in page.data:
            found.setdefault(subscription["id"], subscription.to_dict())
    return sorted(found.values(), key=lambda sub: (int(sub.get("created") or 0), sub["id"]))


def move_item_to_price(
    gateway: StripeGateway,
    *,
    subscription_id: str,
    item_id: str,
    from_price_id: str,
    to_price_id: str,
    quantity: int,
    organizer_id: str,
    idempotency_key: str,
) -> dict[str, Any]:
    """Swap the item's price (and set its quantity) with no proration: the current period
    stays as paid, the next renewal bills the per-group price. Returns the subscription."""
    moved = gateway.call(
        gateway.client.v1.subscriptions.update,
        subscription_id,
        params={
            "items": [{"id": item_id, "price": to_price_id, "quantity": quantity}],
            "proration_behavior": "none",
            "metadata": {"organizer_id": organizer_id, MOVED_FROM_KEY: from_price_id},
        },
        options={"idempotency_key": idempotency_key},
    )
    result: dict[str, Any] = moved.to_dict()
    return result
