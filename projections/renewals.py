"""Renewals: one row per organizer — who renews when, at what quantity, and drift."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.persistence.database import Cursor
from projections.base import Positioned, ReadModel, event_name, load_rows, upsert_rows
from projections.view import Column, ReadModelView, TableSpec, fmt_time

RENEWALS = TableSpec(
    "rm_renewals",
    (
        Column("organizer_uuid", "text", primary_key=True),
        Column("organizer_id", "text", nullable=False),
        Column("subscription_id", "text"),
        Column("subscription_status", "text"),
        Column("current_period_end", "text"),
        Column("active_groups", "int", nullable=False),
        Column("billable_quantity", "int", nullable=False),
        Column("billed_quantity", "int"),
        Column("last_synced_quantity", "int"),
        Column("last_synced_at", "text"),
        Column("sync_status", "text"),
        Column("last_error", "text"),
        Column("drift", "int", nullable=False),
        Column("scheduled_check_period_end", "text"),
        Column("position", "bigint", nullable=False),
    ),
    indexes=(("current_period_end",), ("organizer_id",), ("drift",)),
)

# Subscriptions in these states are billed; drift only means something for them.
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})


def drift_between(status: str | None, billed: int | None, billable: int) -> bool:
    """Billed on Stripe ≠ billable by the ledger, for a subscription that is billed."""
    return status in LIVE_STATUSES and billed is not None and billed != billable


def has_drift(row: dict[str, Any]) -> bool:
    return drift_between(
        row.get("subscription_status"), row.get("billed_quantity"), row["billable_quantity"]
    )


class RenewalsProjection(ReadModel):
    name = "renewals"
    tables = (RENEWALS,)

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)
        self.minimum_quantity = minimum_quantity

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        table = self.t("rm_renewals")
        rows = load_rows(cursor, table, "organizer_uuid", [e.originator_id.hex for e, _ in events])
        for event, position in events:
            key = event.originator_id.hex
            if event_name(event) == "Registered":
                rows.setdefault(key, self.new_row(key, event.platform_organizer_id))
            row = rows.get(key)
            if row is None:
                continue  # an organizer whose registration precedes this view: impossible
            self.update(row, event)
            row["billable_quantity"] = max(row["active_groups"], self.minimum_quantity)
            row["drift"] = int(has_drift(row))
            row["position"] = position
        upsert_rows(cursor, table, RENEWALS, list(rows.values()))

    def new_row(self, key: str, organizer_id: str) -> dict[str, Any]:
        return {
            "organizer_uuid": key,
            "organizer_id": organizer_id,
            "active_groups": 0,
            "billable_quantity": self.minimum_quantity,
            "drift": 0,
            "position": 0,
        }

    @staticmethod
    def update(row: dict[str, Any], event: Any) -> None:
        name = event_name(event)
        if name == "GroupActivated":
            row["active_groups"] += 1
        elif name == "GroupDeactivated":
            row["active_groups"] -= 1
        elif name == "SubscriptionObserved":
            row["subscription_id"] = event.subscription_id
            row["subscription_status"] = event.status
            row["current_period_end"] = fmt_time(event.current_period_end)
            row["billed_quantity"] = event.quantity
        elif name == "SubscriptionCanceled":
            row["subscription_status"] = "canceled"
        elif name == "QuantitySyncRequested":
            row["sync_status"] = "pending"
        elif name == "QuantitySyncConfirmed":
            row["sync_status"] = "confirmed"
            row["last_synced_quantity"] = event.quantity
            row["last_synced_at"] = fmt_time(event.timestamp)
            row["last_error"] = None
        elif name == "QuantitySyncFailed":
            row["sync_status"] = "retrying" if event.retryable else "failed"
            row["last_error"] = f"{event.error_code}: {event.message}"
        elif name == "RenewalQuantityChecked" and event.trigger == "scheduled":
            row["scheduled_check_period_end"] = fmt_time(event.period_end)
