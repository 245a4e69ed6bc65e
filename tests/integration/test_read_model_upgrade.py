"""A read-model table made before a column joined its spec gains it at ``ledger migrate``
(``create_tables``), on both stores: rows stored before keep their values and read null
in the new column, and new rows fill it."""

from __future__ import annotations

from adapters.persistence.database import open_database, parse_database_url
from projections.base import upsert_rows
from projections.view import Column, TableSpec, view_for

BEFORE = TableSpec(
    "rm_upgrade_probe",
    (Column("probe_id", "text", primary_key=True), Column("total", "bigint", nullable=False)),
)
AFTER = TableSpec(
    "rm_upgrade_probe",
    (*BEFORE.columns, Column("hosted_invoice_url", "text"), Column("attempts", "int")),
)


def test_a_table_made_before_a_column_was_added_gains_it(database_url: str) -> None:
    database = open_database(parse_database_url(database_url))
    try:
        old = view_for(database, "upgrade_probe", (BEFORE,))
        old.create_tables()
        with old.transaction() as cursor:
            upsert_rows(cursor, BEFORE.name, BEFORE, [{"probe_id": "p1", "total": 7}])

        new = view_for(database, "upgrade_probe", (AFTER,))
        new.create_tables()
        new.create_tables()  # again: changes nothing
        with new.transaction() as cursor:
            upsert_rows(
                cursor,
                AFTER.name,
                AFTER,
                [{"probe_id": "p2", "total": 9, "hosted_invoice_url": "https://x", "attempts": 2}],
            )
            rows = cursor.execute(
                "SELECT probe_id, total, hosted_invoice_url, attempts FROM rm_upgrade_probe"
                " ORDER BY probe_id"
            ).fetchall()
        assert [dict(row) for row in rows] == [
            {"probe_id": "p1", "total": 7, "hosted_invoice_url": None, "attempts": None},
            {"probe_id": "p2", "total": 9, "hosted_invoice_url": "https://x", "attempts": 2},
        ]
    finally:
        database.close()
