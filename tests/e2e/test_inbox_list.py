"""``ledger inbox list`` as an operator reads it: whole ids and types, ISO-8601 UTC times."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.persistence.inbox import StripeInbox
from app.bootstrap import bootstrap
from app.settings import load_settings
from tests.support.inbox import deliver
from tests.support.processes import run_ledger
from tests.support.stripe_payloads import T0, subscription_event

# Stripe's ids are up to 255 characters; these are long enough to be cut at any usual width.
EVENT_ID = "evt_1QxLedgerInboxListNeverCutsThisIdentifier0123456789"
TYPE = "customer.subscription.pending_update_applied"
CREATED = "2026-01-01T00:00:00Z"  # T0


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory whose embedded default store holds one delivery."""
    container = bootstrap(
        load_settings(database_url=f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}"),
        embedded_migrate=False,
    )
    try:
        container.migrate()
        event = subscription_event("basil", TYPE, event_id=EVENT_ID, created=T0)
        assert deliver(StripeInbox(container.database), event)
    finally:
        container.close()
    return tmp_path


@pytest.mark.parametrize("columns", ["30", "80", "250"])
def test_the_table_never_cuts_an_id_or_a_type_whatever_the_width(
    workdir: Path, columns: str
) -> None:
    result = run_ledger("inbox", "list", cwd=workdir, env={"COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if EVENT_ID in line]
    assert TYPE in line
    assert "…" not in result.stdout


def test_the_table_prints_iso_8601_utc_times_not_unix_seconds(workdir: Path) -> None:
    result = run_ledger("inbox", "list", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert CREATED in result.stdout
    assert str(T0) not in result.stdout


def test_json_lines_carry_iso_8601_utc_times(workdir: Path) -> None:
    result = run_ledger("inbox", "list", "--json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["event_id"] == EVENT_ID
    assert row["type"] == TYPE
    assert row["created"] == CREATED
    assert str(row["received_at"]).endswith("Z")
