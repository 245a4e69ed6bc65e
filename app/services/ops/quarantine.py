"""What the worker set aside so it could go on: inbox deliveries and read-model events
that kept failing for a reason of their own (``ledger ops quarantine``).

A delivery is quarantined as ``failed`` in the inbox after ``MAX_ATTEMPTS`` unexpected
errors (``ledger inbox reprocess --id`` brings it back after a fix); a read-model event in
``read_model_quarantine`` (``ledger replay --projection NAME`` applies it again, in order);
a process-manager reaction in the same table under ``process_manager`` (``ledger ops
quarantine --retry-reactions`` reacts again: replay never repeats reactions).
"""

from __future__ import annotations

from typing import Any

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.persistence.inbox import StripeInbox
from app.services.intake.stripe_inbox import QUARANTINED
from projections.quarantine import quarantined

Entry = dict[str, Any]
REACTOR = "process_manager"  # the renewal process manager's position (its reactions)


def quarantined_inputs(database: SQLiteDatabase | PostgresDatabase) -> list[Entry]:
    """Every quarantined input: inbox deliveries first (by Stripe's time), then events."""
    deliveries: list[Entry] = [
        {
            "kind": "inbox",
            "id": row.delivery.event_id,
            "where": row.delivery.type,
            "error": row.reason or "",
            "retry": f"ledger inbox reprocess --id {row.delivery.event_id}",
        }
        for row in StripeInbox(database).rows(status="failed", limit=100_000)
        if (row.reason or "").startswith(QUARANTINED)
    ]
    events: list[Entry] = [
        {
            "kind": "reaction" if event.projection == REACTOR else "read_model",
            "id": f"{event.originator_id}@{event.originator_version}",
            "where": f"{event.projection} (log position {event.notification_id})",
            "error": event.error,
            "retry": (
                "ledger ops quarantine --retry-reactions"
                if event.projection == REACTOR
                else f"ledger replay --projection {event.projection}"
            ),
        }
        for event in quarantined(database)
    ]
    return deliveries + events
