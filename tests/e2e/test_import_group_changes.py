"""``ledger import-group-changes`` as an operator runs it: real processes, real stores."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.persistence.database import open_database, parse_database_url
from app.bootstrap import bootstrap
from app.services.intake.group_changes import process_batch
from app.settings import load_settings
from domain.groups import GroupAction, resolve_in_order
from domain.organizer import organizer_uuid
from tests.support.postgres import fresh_schema
from tests.support.processes import LEDGER, ledger_env, run_ledger

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Store:
    url: str
    env: dict[str, str]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """SQLite in the working directory (the embedded default), or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}", {})
        return
    server_url: str = request.getfixturevalue("postgres_url")
    with fresh_schema(server_url) as url:
        env = {"LEDGER_DATABASE_URL": url}
        assert run_ledger("migrate", cwd=tmp_path, env=env).returncode == 0
        yield Store(url, env)


def item(index: int, *, organizers: int = 20, minute: int | None = None) -> dict[str, Any]:
    """A change with a deterministic mix of groups, actions and (often tied) times."""
    at = T0 + timedelta(minutes=index % 97 if minute is None else minute)
    return {
        "change_id": f"chg-{index:06d}",
        "organizer_id": f"org-{index % organizers:03d}",
        "group_id": f"g{index % 11}",
        "action": "deactivated" if index % 3 == 0 else "activated",
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
    }


def write_lines(path: Path, lines: list[Any], *, mode: str = "w") -> None:
    with path.open(mode) as file:
        for line in lines:
            file.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


def expected_state(items: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The oracle: each organizer's changes de-duplicated and applied in time order."""
    by_organizer: dict[str, list[tuple[str, GroupAction, datetime, str]]] = {}
    for change in items:
        by_organizer.setdefault(change["organizer_id"], []).append(
            (
                change["group_id"],
                GroupAction(change["action"]),
                datetime.fromisoformat(change["occurred_at"]),
                change["change_id"],
            )
        )
    return {org: resolve_in_order(changes) for org, changes in by_organizer.items()}


def assert_applied_exactly_once(store: Store, items: list[dict[str, Any]]) -> None:
    """Final state equals applying the file once, and each change id left one event."""
    container = bootstrap(load_settings(database_url=store.url), embedded_migrate=False)
    try:
        recorded: Counter[str] = Counter()
        for organizer_id, active in expected_state(items).items():
            assert set(container.ledger.get(organizer_id).active_group_ids) == active
            for event in container.ledger.events.get(organizer_uuid(organizer_id)):
                change_id = getattr(event, "change_id", None)
                if change_id is not None:
                    recorded[change_id] += 1
        assert recorded == Counter(change["change_id"] for change in items)
    finally:
        container.close()


def summary(stdout: str) -> dict[str, int]:
    counts = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in {"applied", "duplicate", "stale", "rejected"}:
            counts[parts[0]] = int(parts[1])
    return counts


def recorded_line(url: str) -> int:
    """The line number in the progress table (0 before the first checkpoint)."""
    database = open_database(parse_database_url(url))
    try:
        with database.transaction() as cursor:
            row = cursor.execute(
                "SELECT max(line_number) AS n FROM group_change_imports"
            ).fetchone()
    except sqlite3.OperationalError:  # no table until the importer has migrated SQLite
        return 0
    finally:
        database.close()
    return int(row["n"]) if row and row["n"] is not None else 0


class TestSummary:
    def test_counts_every_outcome_and_lists_rejected_lines_with_their_numbers(
        self, tmp_path: Path, store: Store
    ) -> None:
        good = [item(i, minute=i % 60) for i in range(100)]
        late = item(100, minute=0) | {"organizer_id": good[3]["organizer_id"]}
        late |= {"group_id": good[3]["group_id"], "change_id": "chg-late"}
        late["occurred_at"] = "2025-12-31T23:00:00Z"  # older than line 4's: stale
        lines: list[Any] = [*good, good[0], late, "{not json", ""]
        lines += [good[1] | {"change_id": "naive", "occurred_at": "2026-01-01T00:00:00"}]
        lines += [good[2] | {"change_id": "future", "occurred_at": "2999-01-01T00:00:00Z"}]
        write_lines(tmp_path / "changes.jsonl", lines)

        result = run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path, env=store.env)

        assert result.returncode == 1, result.stderr
        assert summary(result.stdout) == {"applied": 100, "duplicate": 1, "stale": 1, "rejected": 3}
        assert "line 103: the line is not JSON" in result.stdout
        assert "line 105: occurred_at:" in result.stdout
        assert "line 106: occurred_at is in the future" in result.stdout
        assert_applied_exactly_once(store, [*good, late])

    def test_a_clean_file_exits_0(self, tmp_path: Path, store: Store) -> None:
        write_lines(tmp_path / "changes.jsonl", [item(i) for i in range(50)])
        result = run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path, env=store.env)
        assert result.returncode == 0, result.stderr
        assert sum(summary(result.stdout).values()) == 50

    def test_at_most_20_rejected_lines_are_listed(self, tmp_path: Path) -> None:
        write_lines(tmp_path / "changes.jsonl", ["[]"] * 30)
        result = run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path)
        assert result.returncode == 1
        assert summary(result.stdout)["rejected"] == 30
        assert "first 20 of 30" in result.stdout
        assert result.stdout.count("  line ") == 20


class TestResume:
    def test_a_killed_import_resumes_and_applies_every_change_exactly_once(
        self, tmp_path: Path, store: Store
    ) -> None:
        items = [item(i) for i in range(20_000)]
        write_lines(tmp_path / "changes.jsonl", items)
        command = [*LEDGER, "import-group-changes", "changes.jsonl", "--batch-size", "200"]
        process = subprocess.Popen(
            command, cwd=tmp_path, env=ledger_env(store.env), stdout=subprocess.DEVNULL
        )
        try:
            while recorded_line(store.url) == 0 and process.poll() is None:
                time.sleep(0.01)
            assert process.poll() is None, "the import finished before it could be killed"
        finally:
            process.kill()
            process.wait()
        killed_at = recorded_line(store.url)
        assert 0 < killed_at < 20_000

        result = run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path, env=store.env)

        assert result.returncode == 0, result.stderr
        assert "resuming" in result.stderr
        assert f"resumed after line {killed_at}" in result.stdout
        assert sum(summary(result.stdout).values()) == 20_000
        assert_applied_exactly_once(store, items)

    def test_a_crash_between_save_and_checkpoint_reapplies_harmlessly(
        self, tmp_path: Path, store: Store
    ) -> None:
        items = [item(i) for i in range(300)]
        write_lines(tmp_path / "changes.jsonl", items)
        # The first batch reached the store, but no checkpoint was written.
        container = bootstrap(load_settings(database_url=store.url))
        try:
            process_batch(container.ledger, items[:100])
        finally:
            container.close()

        result = run_ledger(
            "import-group-changes",
            "changes.jsonl",
            "--batch-size",
            "100",
            cwd=tmp_path,
            env=store.env,
        )

        assert result.returncode == 0, result.stderr
        assert summary(result.stdout)["duplicate"] == 100
        assert_applied_exactly_once(store, items)

    def test_a_finished_file_is_skipped_and_restart_goes_through_it_again(
        self, tmp_path: Path
    ) -> None:
        write_lines(tmp_path / "changes.jsonl", [item(i) for i in range(40)])
        first = run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path)
        again = run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path)
        restarted = run_ledger("import-group-changes", "changes.jsonl", "--restart", cwd=tmp_path)

        assert "resuming" not in first.stderr
        assert "resuming" in again.stderr
        assert summary(again.stdout) == summary(first.stdout)  # totals for the file
        assert "0 in this run" in again.stdout
        assert restarted.returncode == 0
        assert "resuming" not in restarted.stderr
        assert summary(restarted.stdout) == {
            "applied": 0,
            "duplicate": 40,
            "stale": 0,
            "rejected": 0,
        }

    def test_lines_appended_to_an_imported_file_are_picked_up(self, tmp_path: Path) -> None:
        path = tmp_path / "changes.jsonl"
        items = [item(i) for i in range(1_000)]  # more than the 64 KiB identity prefix
        write_lines(path, items[:900])
        assert path.stat().st_size > 64 * 1024
        assert run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path).returncode == 0
        write_lines(path, items[900:], mode="a")

        result = run_ledger("import-group-changes", "changes.jsonl", cwd=tmp_path)

        assert "resumed after line 900" in result.stdout
        assert "100 in this run" in result.stdout
        assert_applied_exactly_once(
            Store(f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}", {}), items
        )


class TestUnreadableFile:
    @pytest.mark.parametrize("name", ["missing.jsonl", "."], ids=["missing", "directory"])
    def test_exits_2_with_one_line(self, tmp_path: Path, name: str) -> None:
        result = run_ledger("import-group-changes", name, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0
        assert "cannot read" in result.stderr
        assert not (tmp_path / "var").exists()  # nothing was opened
