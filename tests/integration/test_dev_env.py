"""var/dev.env: written by `ledger dev up`, read back by every command beside the stack."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.dev_env import DevEnvError, read_dev_env, write_dev_env
from app.settings import ConfigurationError, load_settings

STACK = {
    "LEDGER_DATABASE_URL": "sqlite:///var/ledger.sqlite3",
    "LEDGER_SERVICE_TOKEN": "service-token-from-dev-env",
    "LEDGER_TOKEN_SECRET": "t" * 40,
    "STRIPE_API_KEY": "sk_test_double",
    "STRIPE_API_BASE": "http://127.0.0.1:12111",
}


@pytest.fixture
def beside_a_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with var/dev.env, as the working directory, with no variable set."""
    for name in (*STACK, "LEDGER_PUBLIC_URL", "STRIPE_PRICE_ID", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    write_dev_env(STACK)
    return tmp_path


class TestTheFile:
    def test_values_round_trip_through_shell_quoting(self, tmp_path: Path) -> None:
        path = tmp_path / "dev.env"
        values = {"PLAIN": "abc", "ODD": "it's a $value with spaces"}
        write_dev_env(values, path)
        assert read_dev_env(path) == values

    def test_it_is_readable_by_its_owner_only(self, tmp_path: Path) -> None:
        path = tmp_path / "dev.env"
        write_dev_env({"A": "b"}, path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_a_missing_file_holds_nothing(self, tmp_path: Path) -> None:
        assert read_dev_env(tmp_path / "absent.env") == {}

    def test_a_line_that_is_not_an_export_names_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "dev.env"
        path.write_text("export A=b\nrm -rf /\n")
        with pytest.raises(DevEnvError, match=r"dev\.env:2"):
            read_dev_env(path)


class TestSettingsBesideAStack:
    def test_commands_on_the_embedded_default_read_it(self, beside_a_stack: Path) -> None:
        settings = load_settings()
        assert settings.service_token is not None
        assert settings.service_token.get_secret_value() == STACK["LEDGER_SERVICE_TOKEN"]
        assert settings.stripe_api_base == STACK["STRIPE_API_BASE"]

    def test_an_explicit_variable_still_wins(
        self, beside_a_stack: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:1")
        assert load_settings().stripe_api_base == "http://127.0.0.1:1"

    def test_another_store_is_another_stack(
        self, beside_a_stack: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LEDGER_DATABASE_URL", "sqlite:///elsewhere.sqlite3")
        assert load_settings().service_token is None

    def test_the_stacks_own_store_named_explicitly_still_reads_it(
        self, beside_a_stack: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LEDGER_DATABASE_URL", STACK["LEDGER_DATABASE_URL"])
        assert load_settings().service_token is not None

    def test_a_caller_passing_its_own_store_is_not_affected(self, beside_a_stack: Path) -> None:
        settings = load_settings(database_url="sqlite:///own.sqlite3")
        assert settings.stripe_api_key is None

    def test_a_broken_file_is_a_one_line_configuration_error(self, beside_a_stack: Path) -> None:
        (beside_a_stack / "var" / "dev.env").write_text("oops\n")
        with pytest.raises(ConfigurationError, match="expected `export NAME=value`"):
            load_settings()
