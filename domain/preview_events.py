"""The next renewal as Stripe previews it (issue 13: the estimate of a tiered or volume
price, whose amount depends on the quantity).

When the billable quantity changes for an organizer whose price is not per unit, the
ledger asks Stripe once (``POST /v1/invoices/create_preview``) and records the answer as
a ``RenewalPreviewRecorded`` fact (topic ``domain.organizer:Organizer.
RenewalPreviewRecorded``); the billing page reads it from the summary read model and
never calls Stripe. The organizer's state does not change. ``source`` is the
deterministic key of (subscription, price, quantity, period): the same inputs record once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.guards import OrganizerError, check_aware, check_platform_id
from domain.stripe_fact_events import StripeFact

if TYPE_CHECKING:
    from domain.organizer import Organizer


class RenewalPreviewRecorded(StripeFact):
    subscription_id: str
    price_id: str
    quantity: int
    subtotal: int  # minor units of ``currency``
    tax: int
    total: int
    currency: str
    period_end: datetime


def preview_source(subscription_id: str, price_id: str, quantity: int, period_end: datetime) -> str:
    """The deterministic key of one preview: same inputs, same key."""
    return f"preview:{subscription_id}:{price_id}:{quantity}:{int(period_end.timestamp())}"


def record_renewal_preview(
    org: Organizer,
    *,
    subscription_id: str,
    price_id: str,
    quantity: int,
    subtotal: int,
    tax: int,
    total: int,
    currency: str,
    period_end: datetime,
    at: datetime,
) -> bool:
    """Record one preview; returns whether it recorded something (once per key)."""
    check_platform_id(subscription_id, "subscription_id")
    check_platform_id(price_id, "price_id")
    check_aware(period_end, "period_end")
    if len(currency) != 3 or not currency.isalpha() or not currency.islower():
        msg = f"currency must be a lower-case ISO 4217 code, got {currency!r}"
        raise OrganizerError(msg)
    if min(quantity, subtotal, tax, total) < 0:
        msg = "preview quantity and amounts must not be negative"
        raise OrganizerError(msg)
    source = preview_source(subscription_id, price_id, quantity, period_end)
    if org.has_seen(org.RenewalPreviewRecorded, source):
        return False
    org.trigger_event(
        org.RenewalPreviewRecorded,
        subscription_id=subscription_id,
        price_id=price_id,
        quantity=quantity,
        subtotal=subtotal,
        tax=tax,
        total=total,
        currency=currency,
        period_end=period_end,
        source=source,
        timestamp=at,
    )
    return True
