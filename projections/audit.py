"""Audit ledger: one append-only row per billing-relevant fact, with its cause.

Rows are keyed by the event's position in the notification log (and a sequence
number when one event implies several facts, e.g. a group closing that also opens a
drift), so the order is the log's order on every replay.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import orjson

from adapters.persistence.database import Cursor
from domain.organizer import Organizer
from projections.audit_facts import FACTS, Entry
from projections.base import Positioned, ReadModel, load_rows, organizer_keys
from projections.events import NEVER_RECORDED
from projections.renewals import RENEWAL_CHANGES, RenewalsProjection, has_drift
from projections.times import to_text
from projections.view import Column, ReadModelView, TableSpec

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


# An entry as a COPY row, in column order (an entry names only the columns it fills).
_EMPTY_ENTRY: dict[str, Any] = dict.fromkeys(AUDIT_ENTRIES.column_names)
_as_row = operator.itemgetter(*AUDIT_ENTRIES.column_names)


class AuditProjection(ReadModel):
    name = "audit"
    tables = (AUDIT_ENTRIES, AUDIT_ORGANIZERS)
    bulk_writes = True
    # Every event in RENEWAL_CHANGES (the organizer state facts derive drift from) is a fact.
    handles = frozenset({Organizer.Registered, *FACTS, *RENEWAL_CHANGES})
    # The issue-13 facts (a second subscription, tax ids, renewal previews) are in FACTS
    # since audit rows v2: a store projected before needs ``ledger replay --projection
    # audit`` to hold their rows for the past (docs/audit-export.md, "Upgrading").
    IGNORED = NEVER_RECORDED | {Organizer.GroupChangeReaffirmed, Organizer.EnrollmentStarted}

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)
        self.minimum_quantity = minimum_quantity

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        organizers = self.t("rm_audit_organizers")
        keys = organizer_keys(events)
        states = load_rows(cursor, organizers, "organizer_uuid", keys)
        entries: list[Entry] = []
        for (event, position), key in zip(events, keys, strict=True):
            if type(event) is Organizer.Registered:
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
        self.view.upsert(cursor, AUDIT_ORGANIZERS, list(states.values()))
        if entries:
            cursor.insert_many(
                self.t("rm_audit_entries"),
                AUDIT_ENTRIES.column_names,
                [_as_row(entry) for entry in entries],
            )

    def facts(self, event: Any, position: int, state: dict[str, Any]) -> list[Entry]:
        """The audit rows one event implies, after updating the organizer's state; each
        names every column (the hottest loop of a rebuild: one dict per row, no merges)."""
        drift_before = bool(state["drift"])
        RenewalsProjection.update(state, event)
        state["billable_quantity"] = max(state["active_groups"], self.minimum_quantity)
        drift_after = has_drift(state)
        state["drift"] = int(drift_after)
        fact = FACTS.get(type(event))
        drift_changed = drift_after != drift_before
        if fact is None and not drift_changed:
            return []
        recorded = to_text(event.timestamp)
        source = getattr(event, "source", None)
        base = _EMPTY_ENTRY.copy()
        base["position"] = position
        base["organizer_uuid"] = state["organizer_uuid"]
        base["organizer_id"] = state["organizer_id"]
        base["recorded_at"] = base["occurred_at"] = recorded
        base["stripe_event_id"] = source
        base["cause"] = "ledger" if source is None else f"stripe {source}"
        entries: list[Entry] = []
        if fact is not None:
            kind, describe = fact
            entry = base.copy() if drift_changed else base  # the drift row takes ``base``
            entry["kind"] = kind
            for name, value in describe(event, state).items():
                if value is not None:  # e.g. no Stripe instant: the record time stands
                    entry[name] = value
            entries.append(entry)
        if drift_changed:
            entry = base
            entry["kind"] = "drift_detected" if drift_after else "drift_corrected"
            entry["quantity"] = state["billable_quantity"]
            entry["cause"] = (
                f"billed {state.get('billed_quantity')} vs billable {state['billable_quantity']}"
            )
            entry["details"] = {
                "billed_quantity": state.get("billed_quantity"),
                "billable_quantity": state["billable_quantity"],
            }
            entries.append(entry)
        for seq, entry in enumerate(entries):
            entry["seq"] = seq
            if isinstance(entry["details"], dict):
                entry["details"] = orjson.dumps(
                    entry["details"], option=orjson.OPT_SORT_KEYS
                ).decode()
        return entries
