"""Events a read model could not apply, set aside so the others keep flowing.

A read model applies a batch in one transaction; one event it cannot apply (a bug, a
value its tables refuse) would fail that batch forever and hold up every organizer
behind it. So a failed batch is retried event by event, and an event that fails on its
own is recorded here with the error, in the same transaction that moves the model's
position past it. ``ledger ops quarantine`` lists them; after a fix, ``ledger replay
--projection NAME`` rebuilds the model from the log, applying them again in order
(the rebuild's own quarantine replaces the live one at the swap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.persistence.database import Cursor, PostgresDatabase, SQLiteDatabase
from projections.times import fmt_time
from projections.view import REBUILD_SUFFIX, Column, TableSpec

QUARANTINE = TableSpec(
    "read_model_quarantine",
    (
        Column("projection", "text", primary_key=True),
        Column("notification_id", "bigint", primary_key=True),
        Column("originator_id", "text", nullable=False),
        Column("originator_version", "bigint", nullable=False),
        Column("event_type", "text", nullable=False),
        Column("error", "text", nullable=False),
        Column("quarantined_at", "text", nullable=False),
    ),
)


@dataclass(frozen=True)
class QuarantinedEvent:
    projection: str
    notification_id: int
    originator_id: str
    originator_version: int
    event_type: str
    error: str
    quarantined_at: str


def record(cursor: Cursor, projection: str, event: Any, position: int, error: Exception) -> None:
    """Set one event aside (inside the caller's transaction, with the position)."""
    cursor.execute(
        f"INSERT INTO {QUARANTINE.name} (projection, notification_id, originator_id,"
        " originator_version, event_type, error, quarantined_at) VALUES (:projection,"
        " :position, :originator_id, :version, :event_type, :error, :at)"
        " ON CONFLICT (projection, notification_id) DO NOTHING",
        {
            "projection": projection,
            "position": position,
            "originator_id": str(getattr(event, "originator_id", "")),
            "version": int(getattr(event, "originator_version", 0)),
            "event_type": type(event).__qualname__,
            "error": f"{type(error).__name__}: {error}"[:2000],
            "at": fmt_time(datetime.now(UTC)),
        },
    )


def forget(cursor: Cursor, projection: str) -> None:
    cursor.execute(f"DELETE FROM {QUARANTINE.name} WHERE projection = :p", {"p": projection})


def release(cursor: Cursor, projection: str, position: int) -> None:
    """One event's reaction or application succeeded after all: no longer held."""
    cursor.execute(
        f"DELETE FROM {QUARANTINE.name} WHERE projection = :p AND notification_id = :n",
        {"p": projection, "n": position},
    )


def hand_over(cursor: Cursor, rebuilt: str, live: str) -> None:
    """At a replay's swap: the rebuild's quarantine becomes the live one."""
    forget(cursor, live)
    cursor.execute(
        f"UPDATE {QUARANTINE.name} SET projection = :live WHERE projection = :rebuilt",
        {"live": live, "rebuilt": rebuilt},
    )


def quarantined(database: SQLiteDatabase | PostgresDatabase) -> list[QuarantinedEvent]:
    """Every live read model's quarantined events, in log order."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT * FROM {QUARANTINE.name} ORDER BY notification_id, projection"
        ).fetchall()
    return [
        QuarantinedEvent(
            projection=str(r["projection"]),
            notification_id=int(r["notification_id"]),
            originator_id=str(r["originator_id"]),
            originator_version=int(r["originator_version"]),
            event_type=str(r["event_type"]),
            error=str(r["error"]),
            quarantined_at=str(r["quarantined_at"]),
        )
        for r in rows
        if not str(r["projection"]).endswith(REBUILD_SUFFIX)
    ]
