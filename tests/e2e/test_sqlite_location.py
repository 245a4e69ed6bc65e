"""``LEDGER_DATABASE_URL=sqlite:///…`` creates folders only under ``./var`` (where the
embedded default lives); a store in a folder that does not exist elsewhere is a typo, and
every command refuses it in one line with exit 78 (EX_CONFIG), creating nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.processes import run_ledger

COMMANDS = [
    ("migrate",),
    ("organizer", "show", "org-1"),
    ("inbox", "list"),
    ("audit", "export", "--from", "2026-01-01T00:00:00Z", "--to", "2026-02-01T00:00:00Z",
     "--format", "csv"),
    ("worker",),
    ("serve", "--port", "1"),
]  # fmt: skip


def everything_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_a_relative_path_in_a_missing_folder_is_refused_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = {"LEDGER_DATABASE_URL": "sqlite:///no/such/dir/x.sqlite3"}
    result = run_ledger(*command, cwd=tmp_path, env=env, timeout=30)
    assert result.returncode == 78, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("ledger: configuration error: LEDGER_DATABASE_URL: ")
    assert str(tmp_path / "no" / "such" / "dir") in line
    assert everything_under(tmp_path) == []


def test_an_absolute_path_in_a_missing_folder_is_refused_and_creates_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "cwd").mkdir()
    env = {"LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere' / 'x.sqlite3'}"}
    result = run_ledger("migrate", cwd=tmp_path / "cwd", env=env)
    assert result.returncode == 78
    assert str(tmp_path / "elsewhere") in result.stderr
    assert everything_under(tmp_path) == [tmp_path / "cwd"]


def test_climbing_out_of_var_is_not_under_var(tmp_path: Path) -> None:
    env = {"LEDGER_DATABASE_URL": "sqlite:///var/../outside/x.sqlite3"}
    result = run_ledger("migrate", cwd=tmp_path, env=env)
    assert result.returncode == 78
    assert everything_under(tmp_path) == []


def test_a_missing_folder_under_var_is_created(tmp_path: Path) -> None:
    env = {"LEDGER_DATABASE_URL": "sqlite:///var/tenants/a/ledger.sqlite3"}
    result = run_ledger("migrate", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "tenants" / "a" / "ledger.sqlite3").is_file()


def test_an_existing_folder_outside_var_is_used(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    env = {"LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'ledger.sqlite3'}"}
    result = run_ledger("migrate", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "ledger.sqlite3").is_file()


def test_the_embedded_default_creates_var(tmp_path: Path) -> None:
    result = run_ledger("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "ledger.sqlite3").is_file()
