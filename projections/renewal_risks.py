"""Renewals at risk (issue 10): what may make a renewal bill other than the groups active at
its instant, while there is still something to do about it — and the one query over it.

A renewal is at risk when, for a renewing subscription:

- a quantity sync for it is not confirmed by ``period end - LEDGER_SYNC_LEAD`` (pending,
  retrying, or failed for good);
- Stripe bills another quantity than the billable groups from ``period end - lead`` on,
  and no sync for that period was requested;
- a correction of its renewal invoice is not confirmed yet (an item on the draft, a
  one-off invoice, a credit note), or failed;
- its renewal invoice bills another quantity and could not be corrected automatically
  (until that invoice's period ends).

One row per (organizer, subject): a sync, a correction, an uncorrected invoice, and the
organizer's own ``renewal:<uuid>`` row, which holds what drift needs (billed, billable, status,
renewing). Closed rows are deleted, so the table holds open matters only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from adapters.persistence.database import Cursor, Database
from domain.organizer import Organizer
from domain.statuses import RiskKind, RiskStatus, after_failure
from projections.base import Positioned, ReadModel, load_rows_by, organizer_keys
from projections.events import CUSTOMER_EVENTS, DUPLICATE_EVENTS, NEVER_RECORDED
from projections.paging import KeysetQuery
from projections.renewals import RENEWAL_CHANGES, RenewalsProjection, has_drift
from projections.times import fmt_time, to_text
from projections.view import Column, ReadModelView, TableSpec

RISKS = TableSpec(
    "rm_renewal_risks",
    (
        Column("organizer_uuid", "text", primary_key=True),
        Column("subject", "text", primary_key=True),
        Column("organizer_id", "text", nullable=False),
        Column("subscription_id", "text"),
        Column("kind", "text", nullable=False),
        Column("renewal_at", "text"),
        Column("due_at", "text"),
        Column("until_at", "text"),
        Column("open", "int", nullable=False),
        Column("status", "text"),
        Column("quantity", "int"),
        Column("reason", "text"),
        Column("since", "text", nullable=False),
        # the organizer's ``renewal`` row only: what drift is computed from
        Column("subscription_status", "text"),
        Column("current_period_end", "text"),
        Column("billed_quantity", "int"),
        Column("active_groups", "int"),
        Column("billable_quantity", "int"),
        Column("renewing", "int"),
        Column("synced_quantity", "int"),  # the last confirmed sync, and its renewal:
        Column("synced_for", "text"),  # Stripe bills it, whatever webhooks still lag
        Column("renewed_at", "text"),  # the last renewal whose invoice the ledger has
    ),
    indexes=(("open", "due_at"),),
)


def renewal_subject(organizer_uuid: str) -> str:
    """The subject of an organizer's own row (unique: the lists page by subject)."""
    return f"renewal:{organizer_uuid}"


CORRECTION_WORDS = {
    "draft_item": "an item on the renewal draft",
    "one_off_invoice": "a one-off invoice for the difference",
    "credit_note": "a credit note for the difference",
}
CORRECTIONS = frozenset({Organizer.DraftCorrectionRequested, Organizer.LateDifferenceRequested})
FAILURES = frozenset({Organizer.QuantitySyncFailed, Organizer.CorrectionAttemptFailed})
CLOSES = frozenset(
    {
        Organizer.QuantitySyncConfirmed,
        Organizer.QuantitySyncSuperseded,
        Organizer.CorrectionConfirmed,
        Organizer.DraftCorrectionMissed,
    }
)
Row = dict[str, Any]


class RenewalRisksProjection(ReadModel):
    name = "renewal_risks"
    tables = (RISKS,)
    handles = frozenset(
        {
            Organizer.Registered,
            Organizer.QuantitySyncRequested,
            Organizer.RenewalInvoiceLeftUncorrected,
            Organizer.InvoiceRecorded,
            *CORRECTIONS,
            *FAILURES,
            *CLOSES,
            *RENEWAL_CHANGES,
        }
    )
    IGNORED = (
        NEVER_RECORDED
        | DUPLICATE_EVENTS
        | CUSTOMER_EVENTS
        | {
            Organizer.GroupChangeReaffirmed,
            Organizer.StaleGroupChangeIgnored,
            Organizer.StaleSubscriptionSnapshotIgnored,
            Organizer.RenewalUpcoming,
            Organizer.DriftDetected,
            Organizer.PaymentSucceeded,
            Organizer.PaymentFailed,
            Organizer.DraftInvoiceQuantityMismatch,
            Organizer.CorrectionStepDone,
        }
    )

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)
        self.minimum_quantity = minimum_quantity

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        table = self.t("rm_renewal_risks")
        keys = organizer_keys(events)
        rows = load_rows_by(
            cursor,
            table,
            "organizer_uuid",
            keys,
            lambda row: (str(row["organizer_uuid"]), str(row["subject"])),
        )
        for (event, _), key in zip(events, keys, strict=True):
            if type(event) is Organizer.Registered:
                rows.setdefault((key, renewal_subject(key)), self.renewal_row(key, event))
            renewal = rows.get((key, renewal_subject(key)))
            if renewal is not None:
                self.take(rows, renewal, event)
        closed = {k for k, row in rows.items() if not row["open"] and row["kind"] != RiskKind.DRIFT}
        if closed:
            cursor.executemany(
                f"DELETE FROM {table} WHERE organizer_uuid = :o AND subject = :s",
                [{"o": o, "s": s} for o, s in sorted(closed)],
            )
        self.view.upsert(cursor, RISKS, [r for k, r in rows.items() if k not in closed])

    def renewal_row(self, key: str, event: Any) -> Row:
        return {
            "organizer_uuid": key,
            "subject": renewal_subject(key),
            "organizer_id": event.platform_organizer_id,
            "kind": RiskKind.DRIFT,
            "open": 0,
            "since": fmt_time(event.timestamp),
            "active_groups": 0,
            "billable_quantity": self.minimum_quantity,
            "renewing": 1,
        }

    def take(self, rows: dict[tuple[str, str], Row], renewal: Row, event: Any) -> None:
        cls, key = type(event), renewal["organizer_uuid"]

        def open_row(subject: str, kind: str, **fields: Any) -> None:
            rows[(key, subject)] = {
                "organizer_uuid": key,
                "subject": subject,
                "organizer_id": renewal["organizer_id"],
                "kind": kind,
                "open": 1,
                "since": to_text(event.timestamp),
                **fields,
            }

        if cls is Organizer.QuantitySyncRequested:
            open_row(
                event.sync_id,
                RiskKind.SYNC,
                subscription_id=event.subscription_id,
                renewal_at=fmt_time(event.period_end),
                due_at=fmt_time(event.period_end),  # at risk from period end - lead on
                status=RiskStatus.PENDING,
                quantity=event.quantity,
                reason=f"quantity sync to {event.quantity} not confirmed (pending)",
            )
        elif cls in CORRECTIONS:
            words = CORRECTION_WORDS[event.kind]
            open_row(
                event.correction_id,
                event.kind,
                subscription_id=event.subscription_id,
                renewal_at=fmt_time(event.period_start),
                status=RiskStatus.PENDING,
                quantity=event.target_quantity,
                reason=f"invoice {event.invoice_id} bills {event.billed_quantity}, "
                f"{event.target_quantity} billable: {words} not confirmed (pending)",
            )
        elif cls is Organizer.RenewalInvoiceLeftUncorrected:
            open_row(
                f"uncorrected:{event.invoice_id}",
                RiskKind.UNCORRECTED,
                subscription_id=event.subscription_id,
                renewal_at=fmt_time(event.period_start),
                until_at=fmt_time(event.period_end),
                status=RiskStatus.UNCORRECTED,
                quantity=event.target_quantity,
                reason=f"invoice {event.invoice_id}: {event.reason}",
            )
        elif cls in FAILURES:
            subject = getattr(event, "sync_id", None) or event.correction_id
            row = rows.get((key, subject))
            if row is not None:
                status = after_failure(event.retryable)
                head = str(row["reason"]).rpartition(" (")[0] or str(row["reason"])
                row.update(
                    status=status, reason=f"{head} ({status}: {event.error_code}: {event.message})"
                )
        elif cls is Organizer.InvoiceRecorded and event.billing_reason == "subscription_cycle":
            # The renewal happened: its invoice is corrected now, not its syncs.
            renewed = fmt_time(event.period_start) or ""
            renewal["renewed_at"] = max(renewed, renewal.get("renewed_at") or "")
            for (owner, _), row in rows.items():
                if (
                    owner == key
                    and row["kind"] == RiskKind.SYNC
                    and str(row["renewal_at"]) <= renewed
                ):
                    row["open"] = 0
        elif cls in CLOSES:
            subject = getattr(event, "sync_id", None) or event.correction_id
            row = rows.get((key, subject))
            if row is not None:
                row["open"] = 0
                if cls is Organizer.QuantitySyncConfirmed:
                    renewal["synced_quantity"] = event.quantity
                    renewal["synced_for"] = row["renewal_at"]
        self.take_renewal(renewal, event)

    def take_renewal(self, renewal: Row, event: Any) -> None:
        """The drift row: Stripe's quantity against the billable groups, for a renewal."""
        if type(event) is Organizer.SubscriptionObserved:
            renewal["renewing"] = int(not getattr(event, "cancel_at_period_end", False))
        RenewalsProjection.update(renewal, event)
        renewal["billable_quantity"] = max(renewal["active_groups"], self.minimum_quantity)
        synced = (
            renewal.get("synced_for") == renewal.get("current_period_end")
            and renewal.get("synced_quantity") == renewal["billable_quantity"]
        )
        # A renewal whose invoice arrived is the invoice's matter (its correction rows).
        renewed = str(renewal.get("current_period_end")) <= str(renewal.get("renewed_at") or "")
        drifting = has_drift(renewal) and bool(renewal["renewing"]) and not (synced or renewed)
        if drifting and not renewal["open"]:
            renewal["since"] = to_text(event.timestamp)
        renewal["open"] = int(drifting)
        renewal["renewal_at"] = renewal["due_at"] = renewal.get("current_period_end")
        renewal["status"] = RiskStatus.DRIFT if drifting else None
        renewal["quantity"] = renewal["billable_quantity"]
        renewal["reason"] = (
            f"Stripe bills {renewal.get('billed_quantity')}, "
            f"{renewal['billable_quantity']} billable: no quantity sync requested"
        )


# -- the query ------------------------------------------------------------------------

# Drift is no risk while a sync for that very renewal is open (the sync row says it).
AT_RISK_WHERE = (
    "t.open = 1 AND (t.until_at IS NULL OR t.until_at > :now)"
    # A renewal invoice to correct is at risk at once; syncs and drift from the lead on.
    f" AND (t.kind NOT IN ('{RiskKind.SYNC}', '{RiskKind.DRIFT}') OR t.due_at <= :horizon)"
    f" AND NOT (t.kind = '{RiskKind.DRIFT}' AND EXISTS (SELECT 1 FROM rm_renewal_risks s"
    f" WHERE s.organizer_uuid = t.organizer_uuid AND s.kind = '{RiskKind.SYNC}' AND s.open = 1"
    " AND s.renewal_at = t.renewal_at))"
)
AT_RISK_FIELDS = (
    "organizer_id",
    "subscription_id",
    "kind",
    "subject",
    "renewal_at",
    "status",
    "reason",
    "since",
)


def at_risk_params(now: datetime, lead: timedelta) -> dict[str, str | None]:
    return {"now": fmt_time(now), "horizon": fmt_time(now + lead)}


def at_risk_query(now: datetime, lead: timedelta) -> KeysetQuery:
    """The renewals at risk now, oldest renewal first (the ops list)."""
    return KeysetQuery(
        ", ".join(f"t.{name}" for name in AT_RISK_FIELDS),
        "rm_renewal_risks t",
        ("renewal_at", "subject"),
        AT_RISK_WHERE,
        at_risk_params(now, lead),
    )


def count_at_risk(database: Database, now: datetime, lead: timedelta) -> int:
    """How many renewals are at risk now (the ``ledger_renewals_at_risk`` gauge)."""
    with database.transaction() as cursor:
        row = cursor.execute(
            f"SELECT COUNT(*) AS n FROM rm_renewal_risks t WHERE {AT_RISK_WHERE}",
            at_risk_params(now, lead),
        ).fetchone()
    return 0 if row is None else int(row["n"])
