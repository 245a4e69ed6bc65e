"""Failed quantity syncs, as operators list them (the query is the syncs read model's,
projections/syncs.py).

An *open* failure is a sync whose status is ``failed`` (Stripe refused it, or it was not
confirmed within the retry horizon) and that is still the newest sync for its
subscription item and renewal period. A retry, or any newer decision for the same item
and period (a scheduled check, drift), is a new sync requested later; from then on the
failed one is history: it is listed only with ``include_retried``, and names the newest
later sync in ``later_sync_id``.

"Later" is by ``requested_at``: the read model keeps no generation. Two requests for one
item and period recorded at the very same microsecond (a clock stepping back) would both
look latest; the failure then stays listed, and a retry of it is still refused by the
organizer, which does know the order (``app.services.ops.retry``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.persistence.database import Database
from app.services.audit.entries import Page
from app.services.ops.paging import TextKey, json_row, read_all, read_page
from projections.paging import KeysetQuery
from projections.syncs import SYNC_FIELDS, failures_query, sync_owner

INTEGER_FIELDS = frozenset({"quantity", "previous_quantity", "attempts"})


@dataclass(frozen=True)
class FailureFilter:
    """Open failures; with ``include_retrying`` also syncs the sender still retries; with
    ``include_retried`` also syncs that failed at least once and that a later sync now
    follows (history: ``later_sync_id``/``later_sync_status`` say what became of it)."""

    include_retrying: bool = False
    include_retried: bool = False

    def query(self) -> KeysetQuery:
        return failures_query(
            include_retrying=self.include_retrying, include_retried=self.include_retried
        )


def failure_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as the JSON the API and ``ledger ops failures --json`` print."""
    return json_row(row, (*SYNC_FIELDS, "later_sync_id", "later_sync_status"), INTEGER_FIELDS)


def read_failures(
    database: Database, failure_filter: FailureFilter, *, after: TextKey | None, limit: int
) -> Page:
    """One page of failures, oldest request first."""
    return read_page(database, failure_filter.query(), after=after, limit=limit, entry=failure_of)


def all_failures(database: Database, failure_filter: FailureFilter) -> list[dict[str, Any]]:
    """Every failure the filter selects (the CLI prints whole lists)."""
    return read_all(database, failure_filter.query(), entry=failure_of)


def owner_of(database: Database, sync_id: str) -> str | None:
    """The platform organizer id whose sync this is, per the read model (None: unknown)."""
    return sync_owner(database, sync_id)
