"""The renewal policy: whether, and how, to set a subscription's quantity. Pure.

At a renewal the organizer is billed for the groups active at the sync instant, never
below the minimum. Mid-period changes are not prorated unless configured. A request is
identified by (organizer, subscription item, period, quantity, generation), and that
identity is the Stripe ``Idempotency-Key``: deciding the same thing twice can never send
two different updates, and a retry after a crash reaches Stripe with the same key.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.billing import NON_SYNCABLE_SUBSCRIPTION_STATUSES


class ProrationPolicy(StrEnum):
    NONE = "none"
    CREATE_PRORATIONS = "create_prorations"
    ALWAYS_INVOICE = "always_invoice"  # on increases; decreases are never invoiced at once


class SyncTrigger(StrEnum):
    UPCOMING_INVOICE = "invoice.upcoming"
    SCHEDULED = "scheduled"
    DRIFT = "drift"
    OPS_RETRY = "ops_retry"
    RENEWAL_INVOICE = "renewal_invoice"  # the renewal draft: the quantity for the next period


class CheckOutcome(StrEnum):
    REQUESTED = "requested"  # a quantity update will be sent
    IN_SYNC = "in_sync"  # Stripe already bills the right quantity
    ALREADY_REQUESTED = "already_requested"  # the same update is pending or done
    SKIPPED = "skipped"  # the subscription must not be touched (reason recorded)


@dataclass(frozen=True)
class SyncDecision:
    outcome: CheckOutcome
    target_quantity: int
    reason: str
    proration_behavior: str = ProrationPolicy.NONE.value


def proration_behavior(policy: ProrationPolicy, *, previous: int, target: int) -> str:
    """Stripe's ``proration_behavior`` for a change from ``previous`` to ``target``."""
    if policy is ProrationPolicy.ALWAYS_INVOICE:
        return "always_invoice" if target > previous else "none"
    return policy.value


def decide_sync(
    *,
    status: str,
    billed_quantity: int,
    target_quantity: int,
    latest_request: tuple[int, str] | None,
    policy: ProrationPolicy,
    observed_since_latest: bool = False,
    cancel_at_period_end: bool = False,
    price_problem: str | None = None,
) -> SyncDecision:
    """What to do about one subscription item for one renewal period.

    ``latest_request`` is (quantity, status) of the newest sync requested for this item
    and period, if any. ``observed_since_latest``: Stripe reported the subscription after
    that sync was confirmed — so its billed quantity is news, not webhook lag.
    ``cancel_at_period_end``: the period does not renew, so there is nothing to set (and
    no ``always_invoice`` charge for a subscription that is ending). ``price_problem``:
    why the observed item is not the per-group one (``price_problem``), if it is not.
    """
    if status in NON_SYNCABLE_SUBSCRIPTION_STATUSES:
        return SyncDecision(CheckOutcome.SKIPPED, target_quantity, f"subscription is {status}")
    if price_problem is not None:
        return SyncDecision(CheckOutcome.SKIPPED, target_quantity, price_problem)
    if cancel_at_period_end:
        return SyncDecision(
            CheckOutcome.SKIPPED, target_quantity, "subscription ends at this period's close"
        )
    requested = SyncDecision(
        CheckOutcome.REQUESTED,
        target_quantity,
        f"Stripe bills {billed_quantity}, {target_quantity} groups are billable",
        proration_behavior(policy, previous=billed_quantity, target=target_quantity),
    )
    if latest_request is not None:
        quantity, latest_status = latest_request
        if latest_status in ("pending", "retrying"):
            if quantity == target_quantity:
                return SyncDecision(
                    CheckOutcome.ALREADY_REQUESTED,
                    target_quantity,
                    f"a sync to {target_quantity} is already {latest_status}",
                )
            return requested  # supersedes the unsent one: it must never reach Stripe
        trust_confirmation = not observed_since_latest or billed_quantity == target_quantity
        if latest_status == "confirmed" and quantity == target_quantity and trust_confirmation:
            return SyncDecision(
                CheckOutcome.ALREADY_REQUESTED,
                target_quantity,
                f"Stripe confirmed {target_quantity} for this period",
            )
    if billed_quantity == target_quantity:
        return SyncDecision(
            CheckOutcome.IN_SYNC, target_quantity, f"Stripe already bills {target_quantity}"
        )
    return requested


def price_problem(price_id: str, group_price_ids: AbstractSet[str]) -> str | None:
    """Why an item with ``price_id`` is not the per-group item (None: it is, or no
    ``STRIPE_PRICE_ID`` is configured to tell)."""
    if not group_price_ids or price_id in group_price_ids:
        return None
    return f"item bills price {price_id}, not the per-group price"


def schedule_problem(schedule_id: str | None) -> str | None:
    """Why a subscription owned by a subscription schedule gets no sync (None: none owns
    it). The schedule's next phase would set its own quantity over the ledger's, so the
    ledger refuses, visibly, rather than be silently undone (docs/process-manager.md)."""
    if not schedule_id:
        return None
    return (
        f"subscription follows schedule {schedule_id}: its next phase would overwrite "
        "the quantity; release the schedule or set its phases' quantity in Stripe"
    )


def gives_up(
    *, requested_at: datetime, window_closes: datetime, now: datetime, horizon: timedelta
) -> bool:
    """Whether an unconfirmed request becomes a permanent failure now: never while its
    renewal window is open, and not before ``horizon`` after it was requested."""
    return now >= window_closes and now - requested_at > horizon


def retry_delay_s(attempt: int, *, base_s: float, cap_s: float, jitter: float) -> float:
    """Exponential backoff: ``base * 2**(attempt-1)`` capped, times a jitter in [0.5, 1.5)."""
    if not 0 <= jitter < 1:
        msg = "jitter must be in [0, 1)"
        raise ValueError(msg)
    exponential: float = base_s * 2.0 ** max(attempt - 1, 0)
    return min(exponential, cap_s) * (0.5 + jitter)
