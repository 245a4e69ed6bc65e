"""The audit's facts: which event is which billing fact, and how each is described.

One describing function per kind of fact, keyed by event class in ``FACTS``
(the audit read model, projections/audit.py, writes the rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.organizer import Organizer
from projections.events import EventClass
from projections.times import fmt_time

Entry = dict[str, Any]


def _group(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "group_id": event.group_id,
        "quantity": state["billable_quantity"],
        "occurred_at": fmt_time(event.occurred_at),
        "cause": f"platform change {event.change_id}",
    }


def _stale_group(event: Any, state: dict[str, Any]) -> Entry:
    return {
        **_group(event, state),
        "details": {"action": event.action, "superseded_by": event.newest_change_id},
    }


def _subscription(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "quantity": event.quantity,
        "occurred_at": fmt_time(event.observed_at),
        "details": {
            "status": event.status,
            "period_start": fmt_time(event.current_period_start),
            "period_end": fmt_time(event.current_period_end),
        },
    }


def _stale_subscription(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "quantity": event.quantity,
        "occurred_at": fmt_time(event.observed_at),
        "details": {
            "status": event.status,
            "superseded_by_observation_at": fmt_time(event.newest_observed_at),
        },
    }


def _stripe_instant(event: Any) -> str | None:
    """When Stripe says the fact happened; None (the record time stands in) for facts
    recorded before the ledger kept that instant."""
    return fmt_time(event.occurred_at)


def _invoice(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "occurred_at": _stripe_instant(event),
        "subscription_id": event.subscription_id,
        "invoice_id": event.invoice_id,
        "quantity": event.quantity,
        "amount": event.total,
        "currency": event.currency,
        "details": {
            "status": event.status,
            "billing_reason": event.billing_reason,
            "subtotal": event.subtotal,
            "tax": event.tax,
            "amount_due": event.amount_due,
            "amount_paid": event.amount_paid,
            "period_start": fmt_time(event.period_start),
            "period_end": fmt_time(event.period_end),
        },
    }


def _payment(event: Any, state: dict[str, Any]) -> Entry:
    details = {"attempt_count": event.attempt_count} if hasattr(event, "attempt_count") else None
    return {
        "occurred_at": _stripe_instant(event),
        "invoice_id": event.invoice_id,
        "amount": event.amount,
        "currency": event.currency,
        "details": details,
    }


def _sync(event: Any, state: dict[str, Any]) -> Entry:
    entry: Entry = {"quantity": getattr(event, "quantity", None), "cause": f"sync {event.sync_id}"}
    cls = type(event)
    if cls is Organizer.QuantitySyncRequested:
        entry["subscription_id"] = event.subscription_id
        entry["details"] = {
            "trigger": event.trigger,
            "previous_quantity": event.previous_quantity,
            "period_end": fmt_time(event.period_end),
        }
        entry["cause"] = f"{event.trigger} (sync {event.sync_id})"
    elif cls is Organizer.QuantitySyncConfirmed:
        entry["details"] = {"stripe_request_id": event.stripe_request_id}
    elif cls is Organizer.QuantitySyncSuperseded:
        entry["details"] = {"superseded_by": event.superseded_by}
    else:
        entry["details"] = {
            "error": f"{event.error_code}: {event.message}",
            "retryable": event.retryable,
            "attempt": event.attempt,
            "next_attempt_at": fmt_time(event.next_attempt_at),
        }
    return entry


def _check(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "quantity": event.billable_quantity,
        "cause": f"{event.trigger} ({event.cause})",
        "details": {
            "outcome": event.outcome,
            "reason": event.reason,
            "billed_quantity": event.billed_quantity,
            "period_end": fmt_time(event.period_end),
        },
    }


def _draft_mismatch(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "invoice_id": event.invoice_id,
        "quantity": event.billed_quantity,
        "details": {
            "expected_quantity": event.expected_quantity,
            "period_start": fmt_time(event.period_start),
        },
    }


# What a confirmed correction is called in the audit, by its kind.
CORRECTED_KINDS = {
    "draft_item": "renewal_invoice_corrected",
    "one_off_invoice": "renewal_difference_invoiced",
    "credit_note": "renewal_difference_credited",
}


def _correction(event: Any, state: dict[str, Any]) -> Entry:
    """A renewal invoice correction: decided, confirmed (its kind names what it did)."""
    details = {
        "correction_id": event.correction_id,
        "correction_kind": event.kind,
        "billed_quantity": event.billed_quantity,
        "target_quantity": event.target_quantity,
        "quantity": event.quantity,
        "unit_amount": event.unit_amount,
        "period_start": fmt_time(event.period_start),
    }
    entry: Entry = {
        "invoice_id": event.invoice_id,
        "quantity": event.target_quantity,
        "amount": event.amount,
        "currency": event.currency,
        "cause": f"correction {event.correction_id}",
        "details": details,
    }
    if type(event) is Organizer.CorrectionConfirmed:
        entry["kind"] = CORRECTED_KINDS[event.kind]
        details |= {"stripe_object_id": event.stripe_object_id}
        details |= {"stripe_request_id": event.stripe_request_id}
    else:
        entry["subscription_id"] = event.subscription_id
        entry["cause"] = f"{event.cause} (correction {event.correction_id})"
        if getattr(event, "replaces", ""):
            details["replaces"] = event.replaces
    return entry


def _correction_progress(event: Any, state: dict[str, Any]) -> Entry:
    """A step done, an attempt failed, or a draft correction Stripe was too late for."""
    cls = type(event)
    details: dict[str, Any] = {"correction_id": event.correction_id}
    if cls is Organizer.CorrectionStepDone:
        details |= {"step": event.step, "stripe_object_id": event.stripe_object_id}
    elif cls is Organizer.DraftCorrectionMissed:
        details |= {"reason": event.reason}
    else:
        details |= {
            "error": f"{event.error_code}: {event.message}",
            "retryable": event.retryable,
            "attempt": event.attempt,
            "next_attempt_at": fmt_time(event.next_attempt_at),
            "outcome_unknown": event.outcome_unknown,
        }
    return {
        "invoice_id": getattr(event, "invoice_id", None),
        "cause": f"correction {event.correction_id}",
        "details": details,
    }


def _uncorrected(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "invoice_id": event.invoice_id,
        "quantity": event.billed_quantity,
        "details": {
            "billed_quantity": event.billed_quantity,
            "target_quantity": event.target_quantity,
            "period_start": fmt_time(event.period_start),
            "reason": event.reason,
        },
    }


def _reconciliation(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "quantity": event.billed_quantity,
        "cause": f"reconciliation {event.source}",
        "details": {"expected_quantity": event.expected_quantity},
    }


def _renewal(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "quantity": event.expected_quantity,
        "amount": event.expected_amount,
        "currency": event.currency,
        "details": {"period_end": fmt_time(event.period_end)},
    }


def _customer(event: Any, state: dict[str, Any]) -> Entry:
    return {"details": {"customer_id": event.customer_id}}


def _canceled(event: Any, state: dict[str, Any]) -> Entry:
    return {"subscription_id": event.subscription_id, "occurred_at": fmt_time(event.canceled_at)}


# -- issue 13: a second subscription, tax ids, renewal previews ------------------------


def _other_subscription(event: Any, state: dict[str, Any]) -> Entry:
    """A subscription of the organizer that is not the one the ledger bills (never synced
    nor corrected): what it is and how much it would bill, with its price."""
    entry = _subscription(event, state)
    entry["details"]["price_id"] = event.price_id
    return entry


def _duplicate_found(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "cause": f"second live subscription of customer {event.customer_id}"
        f" (the ledger bills {event.primary_subscription_id})",
        "details": {
            "primary_subscription_id": event.primary_subscription_id,
            "customer_id": event.customer_id,
        },
    }


def _duplicate_resolved(event: Any, state: dict[str, Any]) -> Entry:
    return {
        "subscription_id": event.subscription_id,
        "cause": f"no longer a duplicate: {event.reason}",
        "details": {
            "primary_subscription_id": event.primary_subscription_id,
            "reason": event.reason,
        },
    }


def _tax_ids(event: Any, state: dict[str, Any]) -> Entry:
    """Tax ids Stripe reported for the customer, added (or verified) or removed."""
    return {
        "kind": "tax_ids_removed" if event.removed else "tax_ids_observed",
        "occurred_at": fmt_time(event.observed_at),
        "details": {
            "customer_id": event.customer_id,
            "tax_ids": [{"type": kind, "value": value} for kind, value in event.tax_ids],
        },
    }


def _preview(event: Any, state: dict[str, Any]) -> Entry:
    """Stripe's estimate of the next renewal invoice at a quantity (not a charge)."""
    return {
        "subscription_id": event.subscription_id,
        "quantity": event.quantity,
        "amount": event.total,
        "currency": event.currency,
        "cause": f"renewal preview {event.source}",
        "details": {
            "price_id": event.price_id,
            "subtotal": event.subtotal,
            "tax": event.tax,
            "period_end": fmt_time(event.period_end),
        },
    }


# event class → (audit kind, how to describe it). Unlisted events are not billing facts.
FACTS: dict[EventClass, tuple[str, Callable[[Any, dict[str, Any]], Entry]]] = {
    Organizer.GroupActivated: ("group_activated", _group),
    Organizer.GroupDeactivated: ("group_deactivated", _group),
    Organizer.StaleGroupChangeIgnored: ("stale_change_ignored", _stale_group),
    Organizer.StripeCustomerLinked: ("customer_linked", _customer),
    Organizer.StripeCustomerDeleted: ("customer_deleted", _customer),
    Organizer.SubscriptionObserved: ("subscription_observed", _subscription),
    Organizer.StaleSubscriptionSnapshotIgnored: ("stale_subscription_ignored", _stale_subscription),
    Organizer.SubscriptionCanceled: ("subscription_canceled", _canceled),
    Organizer.RenewalUpcoming: ("renewal_upcoming", _renewal),
    Organizer.QuantitySyncRequested: ("quantity_sync_requested", _sync),
    Organizer.QuantitySyncConfirmed: ("quantity_sync_confirmed", _sync),
    Organizer.QuantitySyncFailed: ("quantity_sync_failed", _sync),
    Organizer.QuantitySyncSuperseded: ("quantity_sync_superseded", _sync),
    Organizer.RenewalQuantityChecked: ("renewal_checked", _check),
    Organizer.DraftInvoiceQuantityMismatch: ("draft_invoice_mismatch", _draft_mismatch),
    Organizer.DriftDetected: ("reconciliation_drift", _reconciliation),
    Organizer.DraftCorrectionRequested: ("renewal_correction_requested", _correction),
    Organizer.LateDifferenceRequested: ("renewal_difference_requested", _correction),
    Organizer.CorrectionConfirmed: (
        "renewal_invoice_corrected",
        _correction,
    ),  # kind by what it did
    Organizer.CorrectionStepDone: ("renewal_correction_step", _correction_progress),
    Organizer.CorrectionAttemptFailed: ("renewal_correction_failed", _correction_progress),
    Organizer.DraftCorrectionMissed: ("renewal_draft_missed", _correction_progress),
    Organizer.RenewalInvoiceLeftUncorrected: ("renewal_invoice_uncorrected", _uncorrected),
    Organizer.InvoiceRecorded: ("invoice_recorded", _invoice),
    Organizer.PaymentSucceeded: ("payment_succeeded", _payment),
    Organizer.PaymentFailed: ("payment_failed", _payment),
    Organizer.OtherSubscriptionObserved: ("other_subscription_observed", _other_subscription),
    Organizer.DuplicateSubscriptionFound: ("duplicate_subscription_found", _duplicate_found),
    Organizer.DuplicateSubscriptionResolved: (
        "duplicate_subscription_resolved",
        _duplicate_resolved,
    ),
    Organizer.TaxIdsObserved: ("tax_ids_observed", _tax_ids),  # or tax_ids_removed
    Organizer.RenewalPreviewRecorded: ("renewal_previewed", _preview),
}
