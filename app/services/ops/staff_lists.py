"""The staff area's own lists (GET /api/staff/*): renewal invoice corrections
(projections/corrections.py) and the organizer search (projections/summary.py), paged like
the other ops lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.persistence.database import Database
from app.services.audit.entries import Page
from app.services.ops.paging import TextKey, json_row, read_page
from domain.statuses import CorrectionStatus
from projections.corrections import CORRECTION_FIELDS, CORRECTION_INTEGERS, corrections_query
from projections.summary import search_hit, search_query


def correction_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return json_row(row, CORRECTION_FIELDS, CORRECTION_INTEGERS)


def read_corrections(
    database: Database, status: CorrectionStatus | None, *, after: TextKey | None, limit: int
) -> Page:
    """One page of corrections (those in ``status``, if given), oldest request first."""
    query = corrections_query(status)
    return read_page(database, query, after=after, limit=limit, entry=correction_of)


def search_organizers(database: Database, text: str, *, after: TextKey | None, limit: int) -> Page:
    """One page of organizers matching ``text`` (see ``search_query``), by organizer id."""
    return read_page(database, search_query(text), after=after, limit=limit, entry=search_hit)
