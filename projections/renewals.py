"""Renewals: one row per organizer — who renews when, at what quantity, and drift."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast
from uuid import UUID

from adapters.persistence.database import Cursor, Database
from domain.organizer import Organizer
from domain.statuses import SyncStatus, after_failure
from projections.base import Positioned, ReadModel, load_rows, organizer_keys
from projections.events import (
    CORRECTION_EVENTS,
    CUSTOMER_EVENTS,
    DUPLICATE_EVENTS,
    INVOICE_EVENTS,
    NEVER_RECORDED,
    EventClass,
)
from projections.times import fmt_time, from_text, to_text
from projections.view import Column, ReadModelView, TableSpec

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

Row = dict[str, Any]
# Subscriptions in these states are billed; drift only means something for them.
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})


def drift_between(status: str | None, billed: int | None, billable: int) -> bool:
    """Billed on Stripe ≠ billable by the ledger, for a subscription that is billed."""
    return status in LIVE_STATUSES and billed is not None and billed != billable


def has_drift(row: dict[str, Any]) -> bool:
    return drift_between(
        row.get("subscription_status"), row.get("billed_quantity"), row["billable_quantity"]
    )


def _activated(row: Row, event: Organizer.GroupActivated) -> None:
    row["active_groups"] += 1


def _deactivated(row: Row, event: Organizer.GroupDeactivated) -> None:
    row["active_groups"] -= 1


def _observed(row: Row, event: Organizer.SubscriptionObserved) -> None:
    row["subscription_id"] = event.subscription_id
    row["subscription_status"] = event.status
    row["current_period_end"] = fmt_time(event.current_period_end)
    row["billed_quantity"] = event.quantity


def _canceled(row: Row, event: Organizer.SubscriptionCanceled) -> None:
    row["subscription_status"] = "canceled"


def _sync_requested(row: Row, event: Organizer.QuantitySyncRequested) -> None:
    row["sync_status"] = SyncStatus.PENDING


def _sync_confirmed(row: Row, event: Organizer.QuantitySyncConfirmed) -> None:
    row["sync_status"] = SyncStatus.CONFIRMED
    row["last_synced_quantity"] = event.quantity
    row["last_synced_at"] = fmt_time(event.timestamp)
    row["last_error"] = None


def _sync_failed(row: Row, event: Organizer.QuantitySyncFailed) -> None:
    row["sync_status"] = after_failure(event.retryable)
    row["last_error"] = f"{event.error_code}: {event.message}"


def _checked(row: Row, event: Organizer.RenewalQuantityChecked) -> None:
    if event.trigger == "scheduled":
        row["scheduled_check_period_end"] = fmt_time(event.period_end)


RENEWAL_CHANGES: dict[EventClass, Callable[[Row, Any], None]] = {
    Organizer.GroupActivated: _activated,
    Organizer.GroupDeactivated: _deactivated,
    Organizer.SubscriptionObserved: _observed,
    Organizer.SubscriptionCanceled: _canceled,
    Organizer.QuantitySyncRequested: _sync_requested,
    Organizer.QuantitySyncConfirmed: _sync_confirmed,
    Organizer.QuantitySyncFailed: _sync_failed,
    Organizer.RenewalQuantityChecked: _checked,
}


class RenewalsProjection(ReadModel):
    name = "renewals"
    tables = (RENEWALS,)
    handles = frozenset({Organizer.Registered, *RENEWAL_CHANGES})
    IGNORED = (
        NEVER_RECORDED
        | DUPLICATE_EVENTS
        | CUSTOMER_EVENTS
        | INVOICE_EVENTS
        | CORRECTION_EVENTS
        | {
            Organizer.GroupChangeReaffirmed,
            Organizer.StaleGroupChangeIgnored,
            Organizer.StaleSubscriptionSnapshotIgnored,
            Organizer.RenewalUpcoming,
            Organizer.DriftDetected,
            Organizer.QuantitySyncSuperseded,
        }
    )

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)
        self.minimum_quantity = minimum_quantity

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        table = self.t("rm_renewals")
        keys = organizer_keys(events)
        rows = load_rows(cursor, table, "organizer_uuid", keys)
        for (event, position), key in zip(events, keys, strict=True):
            if type(event) is Organizer.Registered:
                rows.setdefault(key, self.new_row(key, event.platform_organizer_id))
            row = rows.get(key)
            if row is None:
                continue  # an organizer whose registration precedes this view: impossible
            self.update(row, event)
            row["billable_quantity"] = max(row["active_groups"], self.minimum_quantity)
            row["drift"] = int(has_drift(row))
            row["position"] = position
        self.view.upsert(cursor, RENEWALS, list(rows.values()))

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
        """How one event changes an organizer's renewal row (shared by the audit and the
        renewal risks, which keep the same state)."""
        change = RENEWAL_CHANGES.get(type(event))
        if change is not None:
            change(row, event)


# -- the queries ----------------------------------------------------------------------


class RenewalRow(TypedDict):
    """One ``rm_renewals`` row, as stored (times as read-model text)."""

    organizer_uuid: str
    organizer_id: str
    subscription_id: str | None
    subscription_status: str | None
    current_period_end: str | None
    active_groups: int
    billable_quantity: int
    billed_quantity: int | None
    last_synced_quantity: int | None
    last_synced_at: str | None
    sync_status: str | None
    last_error: str | None
    drift: int
    scheduled_check_period_end: str | None
    position: int


def renewals_after(
    database: Database,
    *,
    due_before: str | None,
    drift: bool | None,
    after: tuple[str | None, str] | None,
    limit: int,
) -> list[RenewalRow]:
    """Up to ``limit`` renewals after ``after`` (period end or None, organizer id), by
    period end (organizers without one last), then organizer id."""
    clauses: list[str] = ["1 = 1"]
    params: dict[str, Any] = {"limit": limit}
    if due_before is not None:
        clauses.append("current_period_end < :due_before")
        params["due_before"] = due_before
    if drift is not None:
        clauses.append("drift = :drift")
        params["drift"] = int(drift)
    if after is not None:
        # NULL period ends sort last on both stores (SQLite and PostgreSQL disagree on
        # where NULLs go, so the order says it).
        period_end, params["after_id"] = after
        if period_end is None:
            clauses.append("current_period_end IS NULL AND organizer_id > :after_id")
        else:
            clauses.append(
                "(current_period_end IS NULL OR current_period_end > :after_end"
                " OR (current_period_end = :after_end AND organizer_id > :after_id))"
            )
            params["after_end"] = period_end
    with database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT * FROM rm_renewals WHERE {' AND '.join(clauses)}"
            " ORDER BY CASE WHEN current_period_end IS NULL THEN 1 ELSE 0 END,"
            " current_period_end, organizer_id LIMIT :limit",
            params,
        ).fetchall()
    return [cast(RenewalRow, dict(row)) for row in rows]


@dataclass(frozen=True)
class DueCheck:
    """A live subscription whose period ends within the lead and is not checked yet."""

    organizer_uuid: UUID
    period_end: datetime


def due_scheduled_checks(database: Database, now: datetime, horizon: datetime) -> list[DueCheck]:
    """Live subscriptions whose period ends in ``(now, horizon]`` and whose scheduled
    check for that period is not recorded yet."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT organizer_uuid, current_period_end FROM rm_renewals"
            " WHERE subscription_status IN ('active', 'trialing', 'past_due')"
            " AND current_period_end > :now AND current_period_end <= :horizon"
            " AND (scheduled_check_period_end IS NULL"
            "      OR scheduled_check_period_end < current_period_end)",
            {"now": to_text(now), "horizon": to_text(horizon)},
        ).fetchall()
    return [
        DueCheck(UUID(str(row["organizer_uuid"])), from_text(str(row["current_period_end"])))
        for row in rows
    ]


def observed_subscriptions(database: Database, organizer_id: str | None = None) -> dict[str, str]:
    """Subscription id → platform organizer id, of every subscription observed (or the
    organizer's)."""
    where = "" if organizer_id is None else " AND organizer_id = :organizer"
    with database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT subscription_id, organizer_id FROM rm_renewals"
            f" WHERE subscription_id IS NOT NULL{where}",
            {"organizer": organizer_id},
        ).fetchall()
    return {str(row["subscription_id"]): str(row["organizer_id"]) for row in rows}
