"""Filtering and keyset paging over the audit entries (projections/audit_queries.py).

Entries are ordered by their place in the notification log, ``(position, seq)``. A page
continues strictly after the last key it returned (keyset pagination, never OFFSET): the
audit projection writes rows in log order, all rows of one event in one transaction, so
rows appended while a client pages through always sort after its cursor and are seen
exactly once, on a later page.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from adapters.persistence.database import Database
from projections.audit import AUDIT_ENTRIES
from projections.audit_queries import (
    AuditRange,
    audit_rows_after,
    count_audit_rows,
    stream_audit_rows,
)
from projections.times import fmt_time

COLUMNS = AUDIT_ENTRIES.column_names
INTEGER_COLUMNS = frozenset(c.name for c in AUDIT_ENTRIES.columns if c.kind in {"int", "bigint"})
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_POSITION = 2**63 - 1
_CURSOR_TEXT = re.compile(r"^(0|[1-9][0-9]{0,18}):(0|[1-9][0-9]{0,8})$")


class InvalidCursorError(ValueError):
    """A page cursor this service did not hand out."""


class InvalidFilterError(ValueError):
    """A filter that selects nothing by construction; ``parameter`` names the culprit."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(reason)
        self.parameter = parameter
        self.reason = reason


@dataclass(frozen=True)
class AuditFilter:
    """Entries of one organizer (or all) recorded in the half-open range [start, end)."""

    organizer_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise InvalidFilterError(
                "to", "must be later than the start of the range (it is [from, to))"
            )

    def selection(self) -> AuditRange:
        """The read model's range for this filter."""
        return AuditRange(self.organizer_id, fmt_time(self.start), fmt_time(self.end))

    def describe(self) -> dict[str, str | None]:
        """The filter as plain values (for an export's header)."""
        return {
            "organizer_id": self.organizer_id,
            "from": fmt_time(self.start),
            "to": fmt_time(self.end),
        }


@dataclass(frozen=True)
class Key:
    """An entry's place in the log: its event's position, then its sequence number."""

    position: int
    seq: int


def encode_cursor(key: Key) -> str:
    """Opaque to clients: base64url of ``position:seq``, unpadded."""
    text = f"{key.position}:{key.seq}".encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    """The key a cursor stands for, or :class:`InvalidCursorError`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("not a cursor returned by this API") from None
    match = _CURSOR_TEXT.match(text)
    key = None if match is None else Key(int(match[1]), int(match[2]))
    # Positions are 64-bit (bigint): a larger one was never handed out.
    if key is None or key.position > MAX_POSITION or encode_cursor(key) != cursor:
        raise InvalidCursorError("not a cursor returned by this API")
    return key


def entry_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as a JSON-ready entry: every column, integers as ints, ``details`` parsed."""
    entry = {name: row[name] for name in COLUMNS}
    for name in INTEGER_COLUMNS:
        if entry[name] is not None:
            entry[name] = int(entry[name])
    if entry["details"] is not None:
        entry["details"] = orjson.loads(entry["details"])
    return entry


@dataclass(frozen=True)
class Page:
    entries: list[dict[str, Any]]
    next_cursor: str | None


def read_page(
    database: Database, audit_filter: AuditFilter, *, after: Key | None, limit: int
) -> Page:
    """Up to ``limit`` entries after ``after``; ``next_cursor`` is None on the last page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidFilterError("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    # one more than asked says whether another page exists
    rows = audit_rows_after(
        database,
        audit_filter.selection(),
        after=None if after is None else (after.position, after.seq),
        limit=limit + 1,
    )
    entries = [entry_of(row) for row in rows[:limit]]
    more = len(rows) > limit
    last = entries[-1] if entries else None
    next_cursor = (
        encode_cursor(Key(last["position"], last["seq"])) if more and last is not None else None
    )
    return Page(entries, next_cursor)


def count_entries(database: Database, audit_filter: AuditFilter) -> int:
    """How many entries the filter selects now (a progress bar's total)."""
    return count_audit_rows(database, audit_filter.selection())


@contextmanager
def stream_rows(
    database: Database, audit_filter: AuditFilter
) -> Iterator[Iterator[Mapping[str, Any]]]:
    """Every selected row in log order, in constant memory (one consistent snapshot)."""
    with stream_audit_rows(database, audit_filter.selection()) as rows:
        yield rows
