"""The queries over the audit read model (``rm_audit_entries``): its readers ask here.

The audit trail pages by log position ``(position, seq)``; the organizer timeline by the
instant each entry describes, newest first. Times are the read model's fixed-width UTC
text (projections/view.py ``fmt_time``), so comparing them as strings compares instants.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from adapters.persistence.database import Database
from projections.audit import AUDIT_ENTRIES

AuditRow = Mapping[str, Any]  # every column of AUDIT_ENTRIES, as stored
COLUMNS = AUDIT_ENTRIES.column_names


@dataclass(frozen=True)
class AuditRange:
    """Entries of one organizer (or all) recorded in ``[start, end)`` (read-model text)."""

    organizer_id: str | None = None
    start: str | None = None
    end: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses = ["1 = 1"]
        params: dict[str, Any] = {}
        if self.organizer_id is not None:
            clauses.append("organizer_id = :organizer_id")
            params["organizer_id"] = self.organizer_id
        if self.start is not None:
            clauses.append("recorded_at >= :start")
            params["start"] = self.start
        if self.end is not None:
            clauses.append("recorded_at < :end")
            params["end"] = self.end
        return " AND ".join(clauses), params


def _select(where: str, *, limit: bool) -> str:
    return (
        f"SELECT {', '.join(COLUMNS)} FROM rm_audit_entries WHERE {where}"
        " ORDER BY position, seq" + (" LIMIT :limit" if limit else "")
    )


def audit_rows_after(
    database: Database, selection: AuditRange, *, after: tuple[int, int] | None, limit: int
) -> list[AuditRow]:
    """Up to ``limit`` rows in log order after ``(position, seq)`` ``after``."""
    where, params = selection.where()
    if after is not None:
        # Row values compare lexicographically on both backends and use the primary key.
        where += " AND (position, seq) > (:after_position, :after_seq)"
        params |= {"after_position": after[0], "after_seq": after[1]}
    params["limit"] = limit
    with database.transaction() as cursor:
        return list(cursor.execute(_select(where, limit=True), params).fetchall())


def count_audit_rows(database: Database, selection: AuditRange) -> int:
    """How many rows the range selects now."""
    where, params = selection.where()
    with database.transaction() as cursor:
        row = cursor.execute(
            f"SELECT COUNT(*) AS n FROM rm_audit_entries WHERE {where}", params
        ).fetchone()
    return 0 if row is None else int(row["n"])


@contextmanager
def stream_audit_rows(database: Database, selection: AuditRange) -> Iterator[Iterator[AuditRow]]:
    """Every selected row in log order, in constant memory (one consistent snapshot)."""
    where, params = selection.where()
    with database.stream(_select(where, limit=False), params) as rows:
        yield rows


@dataclass(frozen=True)
class TimelineKey:
    """An entry's place on the timeline: the instant it describes, then its log place
    (which breaks ties and never changes, so paging sees each entry once)."""

    occurred_at: str  # fmt_time text: fixed width, sorts as it reads on both stores
    position: int
    seq: int


def timeline_rows(
    database: Database,
    organizer_id: str,
    kinds: Sequence[str],
    *,
    before: TimelineKey | None,
    limit: int,
) -> list[AuditRow]:
    """Up to ``limit`` of the organizer's rows of these kinds below ``before``, newest
    instant first (keyset paging, stable while entries are appended)."""
    names = ", ".join(f":k{i}" for i in range(len(kinds)))
    params: dict[str, Any] = {f"k{i}": kind for i, kind in enumerate(kinds)}
    params |= {"organizer_id": organizer_id, "limit": limit}
    where = f"organizer_id = :organizer_id AND kind IN ({names})"
    if before is not None:
        where += (
            " AND (occurred_at < :t OR (occurred_at = :t"
            " AND (position < :p OR (position = :p AND seq < :s))))"
        )
        params |= {"t": before.occurred_at, "p": before.position, "s": before.seq}
    with database.transaction() as cursor:
        return list(
            cursor.execute(
                f"SELECT * FROM rm_audit_entries WHERE {where}"
                " ORDER BY occurred_at DESC, position DESC, seq DESC LIMIT :limit",
                params,
            ).fetchall()
        )
