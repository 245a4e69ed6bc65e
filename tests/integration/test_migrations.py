"""Migrations on real stores: up from empty, idempotent, concurrent, tamper-evident."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.persistence.database import open_database, parse_database_url
from adapters.persistence.migrations import (
    Migration,
    MigrationError,
    available_migrations,
    migrate,
    migration_status,
)


def test_an_empty_database_migrates_up_and_is_then_current(database_url: str) -> None:
    database = open_database(parse_database_url(database_url))
    try:
        assert not migration_status(database).current
        applied = migrate(database)
        assert [m.version for m in applied] == [
            m.version for m in available_migrations(database.url.backend)
        ]
        assert migration_status(database).current
        assert migrate(database) == []
    finally:
        database.close()


def test_the_event_store_tables_accept_events_after_migrating(database_url: str) -> None:
    from app.bootstrap import bootstrap
    from app.settings import load_settings

    container = bootstrap(load_settings(database_url=database_url), embedded_migrate=False)
    try:
        container.migrate()
        container.ledger.register_organizer("org-1")
        assert container.ledger.get("org-1").version == 1
    finally:
        container.close()


def test_two_processes_migrating_at_once_apply_each_migration_once(database_url: str) -> None:
    script = (
        "from adapters.persistence.database import open_database, parse_database_url\n"
        "from adapters.persistence.migrations import migrate\n"
        f"db = open_database(parse_database_url({database_url!r}))\n"
        "print(len(migrate(db)))\n"
        "db.close()\n"
    )

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run(), range(2)))
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    counts = sorted(int(r.stdout.strip()) for r in results)
    expected = len(available_migrations(parse_database_url(database_url).backend))
    assert counts == [0, expected]


def test_a_migration_edited_after_it_was_applied_is_refused(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.persistence import migrations

    database = open_database(parse_database_url(database_url))
    try:
        migrate(database)
        original = available_migrations(database.url.backend)
        edited = [Migration(m.version, m.name, m.sql + "\n-- edited") for m in original]
        monkeypatch.setattr(migrations, "available_migrations", lambda backend: edited)
        with pytest.raises(MigrationError, match="edited after it was applied"):
            migration_status(database)
    finally:
        database.close()
