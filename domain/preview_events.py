"""The next renewal as Stripe previews it (issue 13: the estimate of a tiered or volume
price, whose amount depends on the quantity).

When the billable quantity changes for an organizer whose price is not per unit, the
ledger asks Stripe once (``POST /v1/invoices/create_preview``) and records the answer as
a ``RenewalPreviewRecorded`` fact (topic ``domain.organizer:Organizer.
RenewalPreviewRecorded``); the billing page reads it from the summary read model and
never calls Stripe. The organizer's state does not change. ``source`` is the
deterministic key of (subscription, price, quantity, period, discounts): the same inputs
record once. Since issue 13's discounts a per-unit price is previewed too when the
subscription has discounts (coupons): the preview then records their ids and the amount
they take off (``discount``; null on previews recorded before).
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
    # Recorded since issue 13's discounts (older: none, and the discount unknown).
    discount_ids: tuple[str, ...] = ()
    discount: int | None = None  # minor units the discounts take off the subtotal


def preview_source(
    subscription_id: str,
    price_id: str,
    quantity: int,
    period_end: datetime,
    discount_ids: tuple[str, ...] = (),
) -> str:
    """The deterministic key of one preview: same inputs, same key (without discounts,
    the key of the previews recorded before discounts were)."""
    key = f"preview:{subscription_id}:{price_id}:{quantity}:{int(period_end.timestamp())}"
    return key + "".join(f":{discount_id}" for discount_id in discount_ids)


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
    discount_ids: tuple[str, ...] = (),
    discount: int = 0,
) -> bool:
    """Record one preview; returns whether it recorded something (once per key)."""
    check_platform_id(subscription_id, "subscription_id")
    check_platform_id(price_id, "price_id")
    check_aware(period_end, "period_end")
    if len(currency) != 3 or not currency.isalpha() or not currency.islower():
        msg = f"currency must be a lower-case ISO 4217 code, got {currency!r}"
        raise OrganizerError(msg)
    for discount_id in discount_ids:
        check_platform_id(discount_id, "discount_id")
    if min(quantity, subtotal, tax, total, discount) < 0:
        msg = "preview quantity and amounts must not be negative"
        raise OrganizerError(msg)
    if discount > subtotal:
        msg = f"preview discount {discount} exceeds its subtotal {subtotal}"
        raise OrganizerError(msg)
    source = preview_source(subscription_id, price_id, quantity, period_end, discount_ids)
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
        discount_ids=tuple(discount_ids),
        discount=discount,
        source=source,
        timestamp=at,
    )
    return True
