"""A ``ledger worker`` whose store cannot be reached says so, naming the store and the
operating system's error, and never claims another worker leads."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.support.processes import ledger_worker, run_ledger, wait_for

STANDBY = "another worker leads; standing by"


def unreachable_sqlite(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A SQLite path that cannot be opened, and the OS error that says why."""
    if kind == "a directory":
        (tmp_path / "var" / "ledger.sqlite3").mkdir(parents=True)
        return tmp_path / "var" / "ledger.sqlite3", "Is a directory"
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "store").write_text("not a folder\n")
    return tmp_path / "var" / "store" / "ledger.sqlite3", "Not a directory"


@pytest.mark.parametrize("kind", ["a directory", "under a file"])
def test_on_sqlite_an_unreachable_file_is_one_line_naming_the_path_and_the_os_error(
    tmp_path: Path, kind: str
) -> None:
    path, os_error = unreachable_sqlite(tmp_path, kind)
    env = {"LEDGER_DATABASE_URL": f"sqlite:///{path}"}
    result = run_ledger("worker", cwd=tmp_path, env=env, timeout=30)
    assert result.returncode == 1
    assert STANDBY not in result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert str(path) in line
    assert os_error in line


def test_on_postgres_an_unreachable_server_is_not_reported_as_another_leader(
    tmp_path: Path,
) -> None:
    env = {"LEDGER_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    log = tmp_path / "worker.log"
    with ledger_worker(cwd=tmp_path, env=env, log=log) as worker:
        wait_for(lambda: "leader election" in log.read_text(), what="the election's warning")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    text = log.read_text()
    assert STANDBY not in text
    (warning,) = [line for line in text.splitlines() if "leader election" in line]
    assert "127.0.0.1" in warning
    assert "Connection refused" in warning
