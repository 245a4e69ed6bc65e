"""The Stripe inbox: every verified delivery, stored before we answer, then translated.

Rows move ``pending`` → ``processed`` | ``ignored`` | ``parked`` | ``failed``. A parked
row waits for its customer or subscription to be linked to an organizer; linking one
moves the rows that wait for it back to ``pending``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from adapters.persistence.database import Cursor, PostgresDatabase, SQLiteDatabase

InboxStatus = Literal["pending", "processed", "ignored", "parked", "failed"]
LinkKind = Literal["customer", "subscription"]


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class InboxDelivery:
    """A verified delivery, as stored."""

    event_id: str
    type: str
    api_version: str | None
    created: int
    livemode: bool
    account: str | None
    payload: bytes
    received_at: str


@dataclass(frozen=True)
class InboxRow:
    delivery: InboxDelivery
    status: InboxStatus
    reason: str | None
    attempts: int
    processed_at: str | None
    organizer_id: str | None

    @classmethod
    def from_record(cls, record: Any) -> InboxRow:
        delivery = InboxDelivery(
            event_id=record["event_id"],
            type=record["type"],
            api_version=record["api_version"],
            created=int(record["created"]),
            livemode=bool(record["livemode"]),
            account=record["account"],
            payload=bytes(record["payload"]),
            received_at=record["received_at"],
        )
        return cls(
            delivery,
            record["status"],
            record["reason"],
            int(record["attempts"]),
            record["processed_at"],
            record["organizer_id"],
        )


@dataclass(frozen=True)
class Outcome:
    """What translation did with a row."""

    status: InboxStatus
    reason: str | None = None
    organizer_id: str | None = None
    customer_id: str | None = None
    subscription_id: str | None = None


_COLUMNS = (
    "event_id, type, api_version, created, livemode, account, payload, received_at, "
    "status, reason, attempts, processed_at, organizer_id"
)


class StripeInbox:
    """Inbox rows and Stripe-id → organizer links, on either backend."""

    def __init__(self, database: SQLiteDatabase | PostgresDatabase) -> None:
        self.database = database

    def insert(self, delivery: InboxDelivery) -> bool:
        """Store a delivery once; False when this event id is already stored."""
        inserted = self.database.execute_once(
            "INSERT INTO stripe_inbox (event_id, type, api_version, created, livemode,"
            " account, payload, received_at) VALUES (:event_id, :type, :api_version,"
            " :created, :livemode, :account, :payload, :received_at)"
            " ON CONFLICT (event_id) DO NOTHING",
            vars(delivery),
        )
        return inserted == 1

    def pending(self, limit: int) -> list[InboxRow]:
        """Oldest first by Stripe's own time, so the audit trail reads naturally."""
        return self._select(
            "WHERE status = 'pending' ORDER BY created, event_id LIMIT :limit", {"limit": limit}
        )

    def get(self, event_id: str) -> InboxRow | None:
        rows = self._select("WHERE event_id = :event_id", {"event_id": event_id})
        return rows[0] if rows else None

    def rows(
        self, *, status: InboxStatus | None = None, since: int | None = None, limit: int = 1000
    ) -> list[InboxRow]:
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            clauses.append("status = :status")
            params["status"] = status
        if since is not None:
            clauses.append("created >= :since")
            params["since"] = since
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        return self._select(f"{where}ORDER BY created, event_id LIMIT :limit", params)

    def _select(self, tail: str, params: dict[str, Any]) -> list[InboxRow]:
        with self.database.transaction() as cursor:
            records = cursor.execute(f"SELECT {_COLUMNS} FROM stripe_inbox {tail}", params)
            return [InboxRow.from_record(r) for r in records.fetchall()]

    def record(self, event_id: str, outcome: Outcome) -> None:
        """Mark a row with what translation did (and count the attempt)."""
        self.record_many([(event_id, outcome)])

    def record_many(self, outcomes: Sequence[tuple[str, Outcome]]) -> None:
        """Mark many rows in one transaction (a batch of the worker: one commit, not one
        per row)."""
        if outcomes:
            with self.database.transaction() as cursor:
                _record_many(cursor, outcomes)

    def requeue(self, event_ids: Sequence[str]) -> int:
        """Put rows back to pending (reprocessing after a fix); returns how many."""
        with self.database.transaction() as cursor:
            count = 0
            for event_id in event_ids:
                cursor.execute(
                    "UPDATE stripe_inbox SET status = 'pending' WHERE event_id = :event_id",
                    {"event_id": event_id},
                )
                count += cursor.rowcount
            return count

    def link(self, kind: LinkKind, stripe_id: str, organizer_id: str, source: str) -> None:
        """Remember which organizer a Stripe id belongs to, and wake rows parked on it."""
        with self.database.transaction() as cursor:
            _write_link(cursor, kind, stripe_id, organizer_id, source)

    @contextmanager
    def claim(self, limit: int) -> Iterator[InboxBatch]:
        """Up to ``limit`` pending rows (oldest first), claimed for one batch.

        On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` in a transaction that
        also holds the batch's marks and links and commits when the block ends: a second
        processor skips them, and a crash (or an error out of the block) rolls all of it
        back, leaving every row pending, never half-marked. Each write is a savepoint:
        one the store refuses fails its row alone. SQLite has one writer and its
        transactions would block the ledger's own writes, so there each write of the batch
        commits on its own, as ``record_many`` and ``link`` do (one processor: the worker).
        """
        if isinstance(self.database, PostgresDatabase):
            with self.database.savepoints() as write:
                with write() as cursor:
                    records = cursor.execute(
                        f"SELECT {_COLUMNS} FROM stripe_inbox WHERE status = 'pending'"
                        " ORDER BY created, event_id LIMIT :limit FOR UPDATE SKIP LOCKED",
                        {"limit": limit},
                    ).fetchall()
                rows = [InboxRow.from_record(r) for r in records]
                yield InboxBatch(rows, write)
        else:
            yield InboxBatch(self.pending(limit), self.database.transaction)

    def organizer_for(self, stripe_ids: Iterable[str | None]) -> str | None:
        """The organizer linked to the first of these ids that has a link."""
        with self.database.transaction() as cursor:
            for stripe_id in stripe_ids:
                if not stripe_id:
                    continue
                found = cursor.execute(
                    "SELECT organizer_id FROM stripe_links WHERE stripe_id = :stripe_id",
                    {"stripe_id": stripe_id},
                ).fetchone()
                if found is not None:
                    return str(found["organizer_id"])
        return None

    def last_received_at(self) -> datetime | None:
        """When the newest row was stored (None: the inbox is empty)."""
        with self.database.transaction() as cursor:
            row = cursor.execute("SELECT MAX(received_at) AS last FROM stripe_inbox").fetchone()
        last = row["last"] if row is not None else None
        return None if last is None else datetime.fromisoformat(last).astimezone(UTC)

    def owners(self, stripe_ids: Iterable[str | None]) -> dict[str, str]:
        """The organizer of each of these ids that has a link (one query)."""
        wanted = sorted({i for i in stripe_ids if i})
        if not wanted:
            return {}
        with self.database.transaction() as cursor:
            return _select_owners(cursor, wanted)

    def counts(self) -> dict[str, int]:
        with self.database.transaction() as cursor:
            rows = cursor.execute(
                "SELECT status, COUNT(*) AS n FROM stripe_inbox GROUP BY status"
            ).fetchall()
        return {str(r["status"]): int(r["n"]) for r in rows}


class InboxBatch:
    """Rows claimed by ``StripeInbox.claim`` and the writes that go with them (thread-safe:
    the worker applies a batch's organizers side by side)."""

    def __init__(
        self, rows: list[InboxRow], writes: Callable[[], AbstractContextManager[Cursor]]
    ) -> None:
        self.rows = rows
        self._writes = writes
        self._lock = threading.Lock()  # one statement at a time on a held cursor

    def record_many(self, outcomes: Sequence[tuple[str, Outcome]]) -> None:
        if outcomes:
            with self._lock, self._writes() as cursor:
                _record_many(cursor, outcomes)

    def link(self, kind: LinkKind, stripe_id: str, organizer_id: str, source: str) -> None:
        with self._lock, self._writes() as cursor:
            _write_link(cursor, kind, stripe_id, organizer_id, source)

    def owners(self, stripe_ids: Iterable[str | None]) -> dict[str, str]:
        """``StripeInbox.owners`` on the batch's own connection (no second one from the
        pool while the batch holds one; on PostgreSQL it sees the batch's links too)."""
        wanted = sorted({i for i in stripe_ids if i})
        if not wanted:
            return {}
        with self._lock, self._writes() as cursor:
            return _select_owners(cursor, wanted)


def _record_many(cursor: Cursor, outcomes: Sequence[tuple[str, Outcome]]) -> None:
    now = iso_now()
    cursor.executemany(
        "UPDATE stripe_inbox SET status = :status, reason = :reason,"
        " attempts = attempts + 1, processed_at = :now,"
        " organizer_id = COALESCE(:organizer_id, organizer_id),"
        " customer_id = COALESCE(:customer_id, customer_id),"
        " subscription_id = COALESCE(:subscription_id, subscription_id)"
        " WHERE event_id = :event_id",
        [{**vars(outcome), "event_id": event_id, "now": now} for event_id, outcome in outcomes],
    )


def _write_link(
    cursor: Cursor, kind: LinkKind, stripe_id: str, organizer_id: str, source: str
) -> None:
    cursor.execute(
        "INSERT INTO stripe_links (stripe_id, kind, organizer_id, source, linked_at)"
        " VALUES (:stripe_id, :kind, :organizer_id, :source, :now)"
        " ON CONFLICT (stripe_id) DO NOTHING",
        {
            "stripe_id": stripe_id,
            "kind": kind,
            "organizer_id": organizer_id,
            "source": source,
            "now": iso_now(),
        },
    )
    column = "customer_id" if kind == "customer" else "subscription_id"
    cursor.execute(
        f"UPDATE stripe_inbox SET status = 'pending'"
        f" WHERE status = 'parked' AND {column} = :stripe_id",
        {"stripe_id": stripe_id},
    )


def _select_owners(cursor: Cursor, wanted: Sequence[str]) -> dict[str, str]:
    marks = ", ".join(f":id{n}" for n in range(len(wanted)))
    rows = cursor.execute(
        f"SELECT stripe_id, organizer_id FROM stripe_links WHERE stripe_id IN ({marks})",
        {f"id{n}": stripe_id for n, stripe_id in enumerate(wanted)},
    ).fetchall()
    return {str(r["stripe_id"]): str(r["organizer_id"]) for r in rows}
