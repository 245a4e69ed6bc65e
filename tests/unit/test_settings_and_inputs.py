"""Configuration and outside inputs are validated with messages that say what to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.persistence.database import DatabaseUrlError, parse_database_url, to_pyformat
from app.entrypoints.cli import main
from app.settings import ConfigurationError, load_settings
from domain.groups import GroupAction
from domain.limits import id_problem
from domain.organizer import Organizer, OrganizerError
from projections.times import InstantError, parse_instant


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

    def test_a_placeholder_marked_binary_becomes_a_binary_one(self) -> None:
        assert to_pyformat("SELECT 1 WHERE k = ANY(:keys!b::text[]) AND n != :n") == (
            "SELECT 1 WHERE k = ANY(%(keys)b::text[]) AND n != %(n)s"
        )


class TestInstants:
    def test_z_and_offsets_are_normalised_to_utc(self) -> None:
        assert parse_instant("2026-05-01T02:00:00+02:00") == datetime(2026, 5, 1, tzinfo=UTC)
        assert parse_instant("2026-05-01T00:00:00Z") == datetime(2026, 5, 1, tzinfo=UTC)

    @pytest.mark.parametrize("text", ["2026-05-01", "2026-05-01T00:00:00", "soon", ""])
    def test_naive_or_malformed_instants_are_refused(self, text: str) -> None:
        with pytest.raises(InstantError):
            parse_instant(text)


class TestSecrets:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("token_secret", " " * 40),
            ("token_secret", "\t" * 40),
            ("service_token", " " * 20),
            ("stripe_api_key", "   "),
            ("token_secret", "k" * 40 + "\n"),
            ("service_token", " " + "s" * 20),
        ],
    )
    def test_a_blank_or_padded_secret_is_refused_at_start(self, name: str, value: str) -> None:
        with pytest.raises(ConfigurationError, match="whitespace"):
            load_settings(**{name: value})

    def test_a_real_secret_is_kept_as_given(self) -> None:
        settings = load_settings(token_secret="k" * 40, service_token="s" * 20)
        assert settings.token_secret is not None
        assert settings.token_secret.get_secret_value() == "k" * 40

    def test_the_token_lifetime_cap_defaults_to_a_day_and_must_be_positive(self) -> None:
        assert load_settings().token_max_ttl == timedelta(hours=24)
        assert load_settings(token_max_ttl="15m").token_max_ttl == timedelta(minutes=15)
        with pytest.raises(ConfigurationError, match="LEDGER_TOKEN_MAX_TTL"):
            load_settings(token_max_ttl="0s")


class TestTokenIssue:
    def test_a_ttl_beyond_the_servers_cap_is_refused_in_one_line(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("LEDGER_TOKEN_SECRET", "k" * 40)
        assert main(["token", "issue", "--role", "finance", "--ttl", "2d"]) == 2
        error = capsys.readouterr().err.strip()
        assert error.count("\n") == 0
        assert "LEDGER_TOKEN_MAX_TTL" in error

    def test_a_ttl_within_the_cap_issues_a_token(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("LEDGER_TOKEN_SECRET", "k" * 40)
        assert main(["token", "issue", "--role", "finance", "--ttl", "8h"]) == 0
        assert capsys.readouterr().out.count(".") == 2  # a JWT


class TestLimits:
    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("a\x00b", "control characters"),
            ("  ", "blank"),
            ("x" * 201, "at most 200"),
            (7, "must be a string"),
        ],
    )
    def test_ids_are_printable_bounded_text(self, value: object, problem: str) -> None:
        found = id_problem(value)
        assert found is not None
        assert problem in found

    def test_the_domain_refuses_what_a_boundary_would(self) -> None:
        organizer = Organizer.register("org-1", at=datetime(2026, 1, 1, tzinfo=UTC))
        with pytest.raises(OrganizerError, match="group_id must not contain control"):
            organizer.change_group(
                action=GroupAction.ACTIVATED,
                group_id="g\x00",
                change_id="c1",
                occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
                at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        with pytest.raises(OrganizerError, match="occurred_at must be between"):
            organizer.change_group(
                action=GroupAction.ACTIVATED,
                group_id="g1",
                change_id="c1",
                occurred_at=datetime(1, 1, 2, tzinfo=UTC),
                at=datetime(2026, 1, 1, tzinfo=UTC),
            )
