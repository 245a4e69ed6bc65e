"""Renewal drafts billed at another quantity than the ledger expects (the syncs read
model, projections/syncs.py), listed so that finance can act before Stripe finalizes them.

The ledger records each mismatch once, when the draft arrives; it does not follow the
invoice afterwards, so a listed draft may since have been finalized (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.persistence.database import Database
from app.services.audit.entries import Page
from app.services.ops.paging import TextKey, json_row, read_all, read_page
from projections.syncs import DRAFT_FIELDS, DRAFTS_QUERY

INTEGER_FIELDS = frozenset({"billed_quantity", "expected_quantity"})


def draft_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as the JSON the API and ``ledger ops drafts --json`` print."""
    return json_row(row, DRAFT_FIELDS, INTEGER_FIELDS)


def read_drafts(database: Database, *, after: TextKey | None, limit: int) -> Page:
    """One page of mismatched drafts, oldest report first."""
    return read_page(database, DRAFTS_QUERY, after=after, limit=limit, entry=draft_of)


def all_drafts(database: Database) -> list[dict[str, Any]]:
    """Every reported mismatch (the CLI prints whole lists)."""
    return read_all(database, DRAFTS_QUERY, entry=draft_of)
