"""Audit ledger: one append-only row per billing-relevant fact, with its cause.

Rows are keyed by the event's position in the notification log (and a sequence
number when one event implies several facts, e.g. a group closing that also opens a
drift), so the order is the log's order on every replay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from adapters.persistence.database import Cursor
from projections.base import Positioned, ReadModel, event_name, load_rows, upsert_rows
from projections.renewals import RenewalsProjection, has_drift
from projections.view import Column, ReadModelView, TableSpec, fmt_time

AUDIT_ENTRIES = TableSpec(
    "rm_audit_entries",
    (
        Column("position", "bigint", primary_key=True),
        Column("seq", "int", primary_key=True),
        Column("organizer_uuid", "text", nullable=False),
        Column("organizer_id", "text", nullable=False),
        Column("occurred_at", "text", nullable=False),
        Column("recorded_at", "text", nullable=False),
        Column("kind", "text", nullable=False),
        Column("group_id", "text"),
        Column("quantity", "int"),
        Column("amount", "bigint"),
        Column("currency", "text"),
        Column("subscription_id", "text"),
        Column("invoice_id", "text"),
        Column("stripe_event_id", "text"),
        Column("cause", "text", nullable=False),
        Column("details", "text"),
    ),
    # (organizer_id, occurred_at): the organizer's timeline is ordered by business instant.
    indexes=(("organizer_id", "position"), ("recorded_at",), ("organizer_id", "occurred_at")),
)
# What the audit needs to know about each organizer to derive facts (drift) and names.
AUDIT_ORGANIZERS = TableSpec(
    "rm_audit_organizers",
    (
        Column("organizer_uuid", "text", primary_key=True),
        Column("organizer_id", "text", nullable=False),
        Column("active_groups", "int", nullable=False),
        Column("billable_quantity", "int", nullable=False),
        Column("billed_quantity", "int"),
        Column("subscription_status", "text"),
        Column("drift", "int", nullable=False),
    ),
)

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
    name = event_name(event)
    if name == "QuantitySyncRequested":
        entry["subscription_id"] = event.subscription_id
        entry["details"] = {
            "trigger": event.trigger,
            "previous_quantity": event.previous_quantity,
            "period_end": fmt_time(event.period_end),
        }
        entry["cause"] = f"{event.trigger} (sync {event.sync_id})"
    elif name == "QuantitySyncConfirmed":
        entry["details"] = {"stripe_request_id": event.stripe_request_id}
    elif name == "QuantitySyncSuperseded":
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
    if event_name(event) == "CorrectionConfirmed":
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
    name = event_name(event)
    details: dict[str, Any] = {"correction_id": event.correction_id}
    if name == "CorrectionStepDone":
        details |= {"step": event.step, "stripe_object_id": event.stripe_object_id}
    elif name == "DraftCorrectionMissed":
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


# event class name → (audit kind, how to describe it). Unlisted events are not billing facts.
FACTS: dict[str, tuple[str, Callable[[Any, dict[str, Any]], Entry]]] = {
    "GroupActivated": ("group_activated", _group),
    "GroupDeactivated": ("group_deactivated", _group),
    "StaleGroupChangeIgnored": ("stale_change_ignored", _stale_group),
    "StripeCustomerLinked": ("customer_linked", _customer),
    "StripeCustomerDeleted": ("customer_deleted", _customer),
    "SubscriptionObserved": ("subscription_observed", _subscription),
    "StaleSubscriptionSnapshotIgnored": ("stale_subscription_ignored", _stale_subscription),
    "SubscriptionCanceled": ("subscription_canceled", _canceled),
    "RenewalUpcoming": ("renewal_upcoming", _renewal),
    "QuantitySyncRequested": ("quantity_sync_requested", _sync),
    "QuantitySyncConfirmed": ("quantity_sync_confirmed", _sync),
    "QuantitySyncFailed": ("quantity_sync_failed", _sync),
    "QuantitySyncSuperseded": ("quantity_sync_superseded", _sync),
    "RenewalQuantityChecked": ("renewal_checked", _check),
    "DraftInvoiceQuantityMismatch": ("draft_invoice_mismatch", _draft_mismatch),
    "DriftDetected": ("reconciliation_drift", _reconciliation),
    "DraftCorrectionRequested": ("renewal_correction_requested", _correction),
    "LateDifferenceRequested": ("renewal_difference_requested", _correction),
    "CorrectionConfirmed": ("renewal_invoice_corrected", _correction),  # kind by what it did
    "CorrectionStepDone": ("renewal_correction_step", _correction_progress),
    "CorrectionAttemptFailed": ("renewal_correction_failed", _correction_progress),
    "DraftCorrectionMissed": ("renewal_draft_missed", _correction_progress),
    "RenewalInvoiceLeftUncorrected": ("renewal_invoice_uncorrected", _uncorrected),
    "InvoiceRecorded": ("invoice_recorded", _invoice),
    "PaymentSucceeded": ("payment_succeeded", _payment),
    "PaymentFailed": ("payment_failed", _payment),
}


class AuditProjection(ReadModel):
    name = "audit"
    tables = (AUDIT_ENTRIES, AUDIT_ORGANIZERS)

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)
        self.minimum_quantity = minimum_quantity

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        organizers = self.t("rm_audit_organizers")
        states = load_rows(
            cursor, organizers, "organizer_uuid", [e.originator_id.hex for e, _ in events]
        )
        entries: list[Entry] = []
        for event, position in events:
            key = event.originator_id.hex
            if event_name(event) == "Registered":
                states.setdefault(
                    key,
                    {
                        "organizer_uuid": key,
                        "organizer_id": event.platform_organizer_id,
                        "active_groups": 0,
                        "billable_quantity": self.minimum_quantity,
                        "drift": 0,
                    },
                )
            state = states.get(key)
            if state is not None:
                entries.extend(self.facts(event, position, state))
        upsert_rows(cursor, organizers, AUDIT_ORGANIZERS, list(states.values()))
        if entries:
            columns = AUDIT_ENTRIES.column_names
            cursor.insert_many(
                self.t("rm_audit_entries"),
                columns,
                [tuple(entry.get(c) for c in columns) for entry in entries],
            )

    def facts(self, event: Any, position: int, state: dict[str, Any]) -> list[Entry]:
        """The audit rows one event implies, after updating the organizer's state."""
        drift_before = bool(state["drift"])
        RenewalsProjection.update(state, event)
        state["billable_quantity"] = max(state["active_groups"], self.minimum_quantity)
        drift_after = has_drift(state)
        state["drift"] = int(drift_after)
        recorded = fmt_time(event.timestamp)
        base = {
            "position": position,
            "organizer_uuid": state["organizer_uuid"],
            "organizer_id": state["organizer_id"],
            "recorded_at": recorded,
            "occurred_at": recorded,
            "stripe_event_id": getattr(event, "source", None),
            "cause": f"stripe {event.source}" if hasattr(event, "source") else "ledger",
        }
        entries: list[Entry] = []
        fact = FACTS.get(event_name(event))
        if fact is not None:
            kind, describe = fact
            entry = {
                **base,
                "kind": kind,
                **{k: v for k, v in describe(event, state).items() if v is not None},
            }
            entries.append(entry)
        if drift_after != drift_before:
            entries.append(
                {
                    **base,
                    "kind": "drift_detected" if drift_after else "drift_corrected",
                    "quantity": state["billable_quantity"],
                    "subscription_id": None,
                    "cause": (
                        f"billed {state.get('billed_quantity')}"
                        f" vs billable {state['billable_quantity']}"
                    ),
                    "details": {
                        "billed_quantity": state.get("billed_quantity"),
                        "billable_quantity": state["billable_quantity"],
                    },
                }
            )
        for seq, entry in enumerate(entries):
            entry["seq"] = seq
            if isinstance(entry.get("details"), dict):
                entry["details"] = orjson.dumps(
                    entry["details"], option=orjson.OPT_SORT_KEYS
                ).decode()
        return entries
