"""``ledger ops failures|retry|drafts|at-risk|quarantine`` as an operator runs them, on SQLite."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import Container, bootstrap
from app.settings import load_settings
from projections.runner import LogReader, build_read_models, catch_up
from tests.support.clock import SteppingClock
from tests.support.processes import run_ledger
from tests.support.sync_failures import sync_stack


@dataclass(frozen=True)
class Seeded:
    workdir: Path
    failed: list[str]  # org-1's, then org-2's
    confirmed: str

    def container(self, clock: SteppingClock | None = None) -> Container:
        url = f"sqlite:///{self.workdir / 'var' / 'ledger.sqlite3'}"
        return bootstrap(
            load_settings(database_url=url), clock=clock or SteppingClock(), embedded_migrate=False
        )

    def project(self) -> None:
        container = self.container()
        try:
            catch_up(
                LogReader(container.ledger),
                build_read_models(container.database, minimum_quantity=1),
            )
        finally:
            container.close()


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    """Two syncs Stripe refused, one it confirmed and one mismatched renewal draft, in
    ``var/ledger.sqlite3`` under the working directory (the default store)."""
    clock = SteppingClock()
    seeded = Seeded(tmp_path, [], "")
    container = seeded.container(clock)
    container.migrate()
    try:
        with sync_stack(container, clock) as stack:
            failed = stack.failed_syncs("org-1", "org-2")
            stack.subscribe("org-3")
            stack.renewal_needs("org-3", 2)
            stack.send()
            (confirmed,) = stack.organizer("org-3").syncs
            stack.draft_mismatch("org-3", billed=5, invoice_id="in_draft")
    finally:
        container.close()
    return Seeded(tmp_path, failed, confirmed)


def ledger_json(seeded: Seeded, *args: str) -> Any:
    result = run_ledger(*args, "--json", cwd=seeded.workdir)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class TestFailures:
    def test_json_lists_the_open_failures_oldest_first(self, seeded: Seeded) -> None:
        failures = ledger_json(seeded, "ops", "failures")
        assert [f["sync_id"] for f in failures] == seeded.failed
        assert [f["organizer_id"] for f in failures] == ["org-1", "org-2"]
        assert {f["status"] for f in failures} == {"failed"}

    def test_the_table_names_each_failure(self, seeded: Seeded) -> None:
        result = run_ledger("ops", "failures", cwd=seeded.workdir)
        assert result.returncode == 0, result.stderr
        assert all(sync_id in result.stdout for sync_id in seeded.failed)

    def test_an_unknown_option_is_a_one_line_usage_error(self, seeded: Seeded) -> None:
        result = run_ledger("ops", "failures", "--retrying", cwd=seeded.workdir)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1


class TestRetry:
    def test_a_retry_prints_the_new_sync_and_the_failure_is_no_longer_open(
        self, seeded: Seeded
    ) -> None:
        result = run_ledger("ops", "retry", seeded.failed[0], cwd=seeded.workdir)
        assert result.returncode == 0, result.stderr
        prefix, new_id = result.stdout.strip().rsplit(" ", 1)
        assert (prefix, new_id.startswith("sync_")) == ("retry requested:", True)
        seeded.project()
        assert [f["sync_id"] for f in ledger_json(seeded, "ops", "failures")] == seeded.failed[1:]
        (history,) = ledger_json(seeded, "ops", "failures", "--include-retried")[:1]
        assert (history["sync_id"], history["later_sync_id"]) == (seeded.failed[0], new_id)

    def test_retrying_twice_is_refused_in_one_line(self, seeded: Seeded) -> None:
        assert run_ledger("ops", "retry", seeded.failed[0], cwd=seeded.workdir).returncode == 0
        again = run_ledger("ops", "retry", seeded.failed[0], cwd=seeded.workdir)
        assert again.returncode == 1
        assert again.stdout == ""
        (line,) = again.stderr.strip().splitlines()
        assert line.startswith(f"ledger: not retried: sync {seeded.failed[0]}")

    @pytest.mark.parametrize("which", ["unknown", "confirmed"])
    def test_an_unknown_or_confirmed_sync_is_exit_1_in_one_line(
        self, seeded: Seeded, which: str
    ) -> None:
        sync_id = seeded.confirmed if which == "confirmed" else "sync_nope"
        result = run_ledger("ops", "retry", sync_id, cwd=seeded.workdir)
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        expected = "not failed" if which == "confirmed" else "unknown sync 'sync_nope'"
        assert expected in line


class TestDrafts:
    def test_json_lists_the_mismatched_draft(self, seeded: Seeded) -> None:
        (draft,) = ledger_json(seeded, "ops", "drafts")
        assert (draft["invoice_id"], draft["organizer_id"]) == ("in_draft", "org-3")
        assert (draft["billed_quantity"], draft["expected_quantity"]) == (5, 2)

    def test_the_table_names_the_invoice(self, seeded: Seeded) -> None:
        result = run_ledger("ops", "drafts", cwd=seeded.workdir)
        assert result.returncode == 0, result.stderr
        assert "in_draft" in result.stdout


class TestAtRisk:
    def test_json_lists_the_invoice_left_uncorrected_with_its_reason(self, seeded: Seeded) -> None:
        # The refused syncs renew in three days: not within the sync lead yet.
        (risk,) = ledger_json(seeded, "ops", "at-risk")
        assert (risk["organizer_id"], risk["kind"]) == ("org-3", "uncorrected")
        assert risk["subject"] == "uncorrected:in_draft"
        assert "billed 5, 2 billable" in risk["reason"]

    def test_the_table_names_the_subject(self, seeded: Seeded) -> None:
        result = run_ledger("ops", "at-risk", cwd=seeded.workdir)
        assert result.returncode == 0, result.stderr
        assert "uncorrected:in_draft" in result.stdout


def test_an_unreachable_store_is_exit_1_not_ready(tmp_path: Path) -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    result = run_ledger("ops", "failures", cwd=tmp_path, env={"LEDGER_DATABASE_URL": url})
    assert result.returncode == 1
    # psycopg's pool logs its own warnings first; the ledger's verdict is the last line.
    assert result.stderr.strip().splitlines()[-1].startswith("ledger: not ready:")


class TestQuarantine:
    def test_nothing_held_lists_none_and_a_retry_releases_nothing(self, seeded: Seeded) -> None:
        assert ledger_json(seeded, "ops", "quarantine") == []
        result = run_ledger("ops", "quarantine", "--retry-reactions", cwd=seeded.workdir)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "reactions retried: 0 released, 0 still held"
