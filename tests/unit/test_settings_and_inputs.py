"""Configuration and outside inputs are validated with messages that say what to fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.persistence.database import DatabaseUrlError, parse_database_url, to_pyformat
from app.settings import ConfigurationError, load_settings
from app.timeparse import InstantError, parse_instant


class TestDatabaseUrl:
    def test_the_default_is_a_relative_sqlite_file_under_var(self) -> None:
        url = load_settings(database_url="sqlite:///var/ledger.sqlite3").database
        assert (url.backend, url.sqlite_path) == ("sqlite", Path("var/ledger.sqlite3"))

    def test_an_absolute_sqlite_path_has_four_slashes(self) -> None:
        assert parse_database_url("sqlite:////srv/l.db").sqlite_path == Path("/srv/l.db")

    def test_postgres_urls_carry_credentials_and_an_optional_schema(self) -> None:
        url = parse_database_url("postgresql://u:secret@db:6543/ledger?schema=billing")
        assert url.backend == "postgres"
        assert url.conninfo["host"] == "db"
        assert url.conninfo["port"] == "6543"
        assert url.schema == "billing"
        assert "secret" not in url.redacted

    @pytest.mark.parametrize(
        ("raw", "hint"),
        [
            ("mysql://x/y", "neither"),
            ("sqlite:///", "names no database file"),
            ("postgresql://u@h:5432/", "names no database"),
            ("postgresql://u@h/db?schema=Bad-Name", "schema"),
        ],
    )
    def test_bad_urls_are_refused_with_a_reason(self, raw: str, hint: str) -> None:
        with pytest.raises(DatabaseUrlError, match=hint):
            parse_database_url(raw)

    def test_settings_name_the_variable(self) -> None:
        with pytest.raises(ConfigurationError, match="LEDGER_DATABASE_URL"):
            load_settings(database_url="nope://")

    def test_named_placeholders_become_pyformat_and_casts_survive(self) -> None:
        assert to_pyformat("SELECT :a::text, '%' WHERE x = :b_2") == (
            "SELECT %(a)s::text, '%%' WHERE x = %(b_2)s"
        )


class TestInstants:
    def test_z_and_offsets_are_normalised_to_utc(self) -> None:
        assert parse_instant("2026-05-01T02:00:00+02:00") == datetime(2026, 5, 1, tzinfo=UTC)
        assert parse_instant("2026-05-01T00:00:00Z") == datetime(2026, 5, 1, tzinfo=UTC)

    @pytest.mark.parametrize("text", ["2026-05-01", "2026-05-01T00:00:00", "soon", ""])
    def test_naive_or_malformed_instants_are_refused(self, text: str) -> None:
        with pytest.raises(InstantError):
            parse_instant(text)
