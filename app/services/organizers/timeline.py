"""The organizer's timeline: audit entries told in words a person understands.

Only the facts that explain a quantity or a charge are shown, one entry per fact a person
would name (one per payment); the ledger's internal bookkeeping (stale deliveries, checks
that changed nothing, superseded requests) stays in the finance audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from app.services.audit.entries import MAX_POSITION, InvalidCursorError
from app.services.ops.paging import decode_cursor as decode_text_key
from app.services.ops.paging import encode_cursor as encode_text_key
from app.services.organizers.models import Money, Timeline, TimelineEntry
from projections.audit_queries import TimelineKey, timeline_rows
from projections.group_history import latest_group_names
from projections.times import from_text, optional_from_text

# payment_succeeded is not listed: every payment also records its invoice as paid (the
# same delivery carries both), and that entry tells the payment once, with its breakdown.
SHOWN_KINDS = (
    "customer_linked",
    "group_activated",
    "group_deactivated",
    "subscription_observed",
    "subscription_canceled",
    "renewal_upcoming",
    "quantity_sync_confirmed",
    "invoice_recorded",
    "payment_failed",
    "drift_detected",
    "drift_corrected",
    "draft_invoice_mismatch",
    "renewal_invoice_corrected",
    "renewal_difference_invoiced",
    "renewal_difference_credited",
    "renewal_invoice_uncorrected",
)
INSTANT_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_PLACE_TEXT = re.compile(r"^(0|[1-9][0-9]{0,18}):(0|[1-9][0-9]{0,8})$")


TIMES = "\u00d7"  # the multiplication sign, as finance writes "2 x 10.00 EUR"


def money(amount: int | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d} {currency.upper()}"


def encode_cursor(key: TimelineKey) -> str:
    return encode_text_key((key.occurred_at, f"{key.position}:{key.seq}"))


def decode_cursor(cursor: str) -> TimelineKey:
    """The key a timeline cursor stands for, or :class:`InvalidCursorError`."""
    occurred_at, place = decode_text_key(cursor)
    match = _PLACE_TEXT.match(place)
    if match is None or not INSTANT_TEXT.match(occurred_at) or int(match[1]) > MAX_POSITION:
        raise InvalidCursorError("not a cursor returned by this API")
    return TimelineKey(occurred_at, int(match[1]), int(match[2]))


def _groups(n: int | None) -> str:
    return f"{n} group{'s' if n != 1 else ''}"


# Words only: amounts, dates and periods travel as values (``amount``, ``subtotal``,
# ``tax``, ``period_start``, ``period_end``, ``at``) that the SPA formats in the
# organizer's locale, so "€49.00" and "1 Jun 2025" read one way on the whole page.


def instant(text: str | None) -> str:
    """``2026-02-01T00:00:00.000000Z`` → ``1 Feb 2026 00:00 UTC``."""
    if not text:
        return ""
    value = from_text(text)
    return f"{value.day} {value:%b %Y %H:%M} UTC"


def _found(d: Mapping[str, Any]) -> str:
    """``billed 5 groups, 7 were active at 1 Feb 2026 00:00 UTC`` (the renewal instant)."""
    target = d.get("target_quantity")
    were = "was" if target == 1 else "were"
    return f"Billed {_groups(d.get('billed_quantity'))}, {target} {were} active at " + instant(
        d.get("period_start")
    )


def _difference(e: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    """``2 <times> 10.00 EUR``: the groups corrected at the per-group price."""
    groups = abs(int(d.get("quantity") or 0))
    return f"{groups} {TIMES} {money(d.get('unit_amount'), e['currency'])}"


def _corrected(e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[str, str]:
    verb = "added" if int(d.get("quantity") or 0) > 0 else "credited"
    return (
        "Renewal invoice corrected",
        f"{_found(d)}; {_difference(e, d)} {verb} before it was finalised.",
    )


def _invoiced(e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[str, str]:
    return (
        "Renewal difference invoiced",
        f"{_found(d)}; the renewal invoice was already finalised, so {_difference(e, d)} "
        f"were charged at once on invoice {d.get('stripe_object_id')}.",
    )


def _credited(e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[str, str]:
    return (
        "Renewal difference credited",
        f"{_found(d)}; the renewal invoice {e['invoice_id']} was already finalised, so "
        f"{_difference(e, d)} were credited at once (credit note {d.get('stripe_object_id')}).",
    )


def _uncorrected(e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[str, str]:
    why = str(d.get("reason", "")).rpartition("; ")[2]
    return (
        "Renewal invoice under review",
        f"{_found(d)}; it could not be corrected automatically ({why}). Finance is checking it.",
    )


def _group(e: Mapping[str, Any]) -> str:
    """``Chess club (g1)`` when the platform named the group, else its id."""
    name = e.get("group_name")
    return f"{name} ({e['group_id']})" if name else str(e["group_id"])


Describe = Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[str, str]]

WORDS: dict[str, Describe] = {
    "customer_linked": lambda e, d: (
        "Enrolled in per-group billing",
        "Your Stripe customer was set up.",
    ),
    "group_activated": lambda e, d: (
        f"Group {_group(e)} opened",
        f"{_groups(e['quantity'])} billable from the next renewal.",
    ),
    "group_deactivated": lambda e, d: (
        f"Group {_group(e)} closed",
        f"{_groups(e['quantity'])} billable from the next renewal.",
    ),
    "subscription_observed": lambda e, d: (
        f"Subscription {d.get('status', '')}",
        f"Stripe bills {_groups(e['quantity'])} for this period.",
    ),
    "subscription_canceled": lambda e, d: ("Subscription canceled", "No further renewals."),
    "renewal_upcoming": lambda e, d: (
        "Renewal announced",
        f"Stripe will bill {_groups(e['quantity'])} at the renewal; the amount is its estimate.",
    ),
    "quantity_sync_confirmed": lambda e, d: (
        f"Billing set to {_groups(e['quantity'])}",
        f"Stripe will bill {_groups(e['quantity'])} from the next renewal.",
    ),
    "invoice_recorded": lambda e, d: (
        "Payment received" if d.get("status") == "paid" else f"Invoice {d.get('status', '')}",
        f"{_groups(e['quantity'])} billed for the period.",
    ),
    "payment_failed": lambda e, d: (
        "Payment failed",
        f"Attempt {d.get('attempt_count', 1)}; Stripe will retry. "
        "You can update your card in the billing portal.",
    ),
    "drift_detected": lambda e, d: (
        "Billing differs from your groups",
        f"Stripe bills {d.get('billed_quantity')}, "
        f"{_groups(d.get('billable_quantity'))} are billable; it is corrected before the renewal.",
    ),
    "drift_corrected": lambda e, d: (
        "Billing matches your groups again",
        f"{_groups(e['quantity'])} billed.",
    ),
    "renewal_invoice_corrected": _corrected,
    "renewal_difference_invoiced": _invoiced,
    "renewal_difference_credited": _credited,
    "renewal_invoice_uncorrected": _uncorrected,
    "draft_invoice_mismatch": lambda e, d: (
        "Renewal draft under review",
        f"The draft bills {_groups(e['quantity'])}; {d.get('expected_quantity')} expected. "
        "Finance is checking it.",
    ),
}


def to_entry(row: Mapping[str, Any], names: Mapping[str, str] | None = None) -> TimelineEntry:
    """The entry of one audit row; ``names``: group names by id (the group history's)."""
    details = orjson.loads(row["details"]) if row.get("details") else {}
    group_id = None if row.get("group_id") is None else str(row["group_id"])
    group_name = None if group_id is None else (names or {}).get(group_id)
    row = {**row, "group_name": group_name}
    title, description = WORDS[str(row["kind"])](row, details)
    currency = row.get("currency")

    def money(amount: object) -> Money | None:
        return (
            None
            if amount is None or not currency
            else Money(amount=int(str(amount)), currency=str(currency))
        )

    return TimelineEntry(
        position=int(row["position"]),
        seq=int(row["seq"]),
        at=optional_from_text(row["occurred_at"]),
        recorded_at=optional_from_text(row["recorded_at"]),
        kind=str(row["kind"]),
        title=title,
        description=description,
        quantity=None if row.get("quantity") is None else int(row["quantity"]),
        amount=money(row.get("amount")),
        subtotal=money(details.get("subtotal")),
        tax=money(details.get("tax")),
        period_start=optional_from_text(details.get("period_start")),
        period_end=optional_from_text(details.get("period_end")),
        group_id=group_id,
        group_name=group_name,
        invoice_id=None if row.get("invoice_id") is None else str(row["invoice_id"]),
    )


def read_timeline(
    database: SQLiteDatabase | PostgresDatabase,
    organizer_id: str,
    *,
    before: TimelineKey | None,
    limit: int,
) -> Timeline:
    """Newest first by the instant each entry describes (a group change's own time,
    Stripe's time for its facts), not by when the ledger recorded it; ``before`` continues
    below the previous page (keyset paging, stable while entries are appended)."""
    rows = timeline_rows(database, organizer_id, SHOWN_KINDS, before=before, limit=limit + 1)
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    next_cursor = (
        None
        if last is None
        else encode_cursor(
            TimelineKey(str(last["occurred_at"]), int(last["position"]), int(last["seq"]))
        )
    )
    ids = [str(row["group_id"]) for row in page if row.get("group_id") is not None]
    names = latest_group_names(database, organizer_id, ids) if ids else {}
    return Timeline(entries=[to_entry(row, names) for row in page], next_cursor=next_cursor)
