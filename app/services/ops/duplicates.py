"""Duplicate subscriptions (issue 13): an organizer's second live subscription, never
synced nor corrected, listed until someone cancels it in Stripe (projections/duplicates.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.persistence.database import Database
from app.services.audit.entries import Page
from app.services.ops.paging import TextKey, json_row, read_page
from projections.duplicates import DUPLICATE_FIELDS, OPEN_DUPLICATES_QUERY


def duplicate_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as the JSON the API prints."""
    return json_row(row, DUPLICATE_FIELDS, frozenset())


def read_duplicates(database: Database, *, after: TextKey | None, limit: int) -> Page:
    """One page of open duplicates, oldest first."""
    return read_page(database, OPEN_DUPLICATES_QUERY, after=after, limit=limit, entry=duplicate_of)
