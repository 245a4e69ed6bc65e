"""The customer's tax ids, as Stripe reports them (issue 13: Stripe Tax, done right).

Checkout collects tax ids (``tax_id_collection``) and Stripe reports them in
``checkout.session.completed`` (``customer_details.tax_ids``) and as ``customer.tax_id.*``
events. Each delivery is one ``TaxIdsObserved`` fact on the organizer, assigned in
``Organizer``'s body (topic ``domain.organizer:Organizer.TaxIdsObserved``). The organizer's
state does not change: what the billing page shows is folded by the summary read model,
where for each (type, value) the latest observation wins, so arrival order does not matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from domain.guards import OrganizerError, check_aware, check_platform_id
from domain.stripe_fact_events import StripeFact

if TYPE_CHECKING:
    from domain.organizer import Organizer

MAX_TAX_IDS = 100  # Stripe allows 100 per customer
MAX_VALUE_LENGTH = 100


class TaxIdsObserved(StripeFact):
    customer_id: str
    tax_ids: list[list[str]]  # [type, value] pairs, e.g. ["eu_vat", "DE123456789"]
    removed: bool
    observed_at: datetime


def record_tax_ids(
    org: Organizer,
    *,
    customer_id: str,
    tax_ids: Sequence[tuple[str, str]],
    removed: bool,
    observed_at: datetime,
    source: str,
    at: datetime,
) -> bool:
    """Record the tax ids one delivery reports (added, or ``removed``); returns whether it
    recorded something. The same delivery again records nothing."""
    check_platform_id(customer_id, "customer_id")
    check_aware(observed_at, "observed_at")
    if not tax_ids or len(tax_ids) > MAX_TAX_IDS:
        msg = f"tax_ids must hold 1 to {MAX_TAX_IDS} tax ids, got {len(tax_ids)}"
        raise OrganizerError(msg)
    for kind, value in tax_ids:
        check_platform_id(kind, "tax_id type")
        if not value or len(value) > MAX_VALUE_LENGTH or not value.isprintable():
            msg = f"tax_id value must be 1 to {MAX_VALUE_LENGTH} printable characters"
            raise OrganizerError(msg)
    if org.has_seen(org.TaxIdsObserved, source):
        return False
    org.trigger_event(
        org.TaxIdsObserved,
        customer_id=customer_id,
        tax_ids=[[kind, value] for kind, value in tax_ids],
        removed=removed,
        observed_at=observed_at,
        source=source,
        timestamp=at,
    )
    return True
