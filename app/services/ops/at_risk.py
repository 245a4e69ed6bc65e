"""Renewals at risk, as operators list them (the definition and the query are the
read model's, projections/renewal_risks.py).

Oldest renewal first, so what is most urgent (or already overdue) leads the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from adapters.persistence.database import Database
from app.services.audit.entries import Page
from app.services.ops.paging import TextKey, json_row, read_all, read_page
from projections.renewal_risks import AT_RISK_FIELDS, at_risk_query


def risk_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as the JSON the API and ``ledger ops at-risk --json`` print."""
    return json_row(row, AT_RISK_FIELDS, frozenset())


def read_at_risk(
    database: Database, now: datetime, lead: timedelta, *, after: TextKey | None, limit: int
) -> Page:
    return read_page(database, at_risk_query(now, lead), after=after, limit=limit, entry=risk_of)


def all_at_risk(database: Database, now: datetime, lead: timedelta) -> list[dict[str, Any]]:
    return read_all(database, at_risk_query(now, lead), entry=risk_of)
