"""Shared fixtures: one suite, two stores (SQLite file and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from app.bootstrap import Container, bootstrap
from app.settings import load_settings
from tests.support.clock import SteppingClock
from tests.support.postgres import fresh_schema, postgres_server_url

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# CI must be reproducible: the same examples on every run (local runs keep exploring).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server_url() as url:
        yield url


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend, private to the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    server_url: str = request.getfixturevalue("postgres_url")
    with fresh_schema(server_url) as url:
        yield url


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def container(database_url: str, clock: SteppingClock) -> Iterator[Container]:
    """A migrated store on the parametrized backend."""
    settings = load_settings(database_url=database_url, snapshot_interval=5)
    built = bootstrap(settings, clock=clock, embedded_migrate=False)
    built.migrate()
    try:
        yield built
    finally:
        built.close()
