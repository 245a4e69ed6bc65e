"""`ledger dev reset`: wipes ./var after a confirmation, never under a running stack."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.dev_env import write_dev_env
from tests.e2e.dev_stack_support import dev_stack
from tests.support.processes import LEDGER, ledger_env


def reset(cwd: Path, *args: str, answer: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LEDGER, "dev", "reset", *args],
        cwd=cwd,
        env=ledger_env(),
        input=answer,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def a_var(cwd: Path) -> Path:
    var = cwd / "var"
    var.mkdir()
    (var / "ledger.sqlite3").write_bytes(b"not really a database")
    write_dev_env({"LEDGER_SERVICE_TOKEN": "s" * 20}, var / "dev.env")
    return var


class TestDevReset:
    def test_it_asks_and_a_yes_wipes_var(self, tmp_path: Path) -> None:
        var = a_var(tmp_path)
        done = reset(tmp_path, answer="y\n")
        assert done.returncode == 0, done.stderr
        assert "[y/N]" in done.stdout
        assert not var.exists()

    def test_any_other_answer_keeps_everything(self, tmp_path: Path) -> None:
        var = a_var(tmp_path)
        for answer in ("n\n", "\n", ""):
            kept = reset(tmp_path, answer=answer)
            assert kept.returncode == 1
            assert kept.stderr.strip().splitlines() == [
                "ledger: not reset (answer y to confirm, or pass --yes)"
            ]
            assert (var / "ledger.sqlite3").exists()

    def test_yes_skips_the_question(self, tmp_path: Path) -> None:
        var = a_var(tmp_path)
        done = reset(tmp_path, "--yes")
        assert done.returncode == 0, done.stderr
        assert "[y/N]" not in done.stdout
        assert not var.exists()

    def test_without_var_there_is_nothing_to_do(self, tmp_path: Path) -> None:
        done = reset(tmp_path, "--yes")
        assert done.returncode == 0
        assert "nothing to reset" in done.stdout

    def test_it_refuses_while_a_stack_runs_on_var(self, tmp_path: Path) -> None:
        with dev_stack(tmp_path) as stack:
            refused = reset(tmp_path, "--yes")
            assert refused.returncode == 1
            line = refused.stderr.strip()
            assert len(line.splitlines()) == 1, refused.stderr
            assert f"pid {stack.process.pid}" in line
            assert "stop it before resetting" in line
            assert (tmp_path / "var" / "dev.env").exists()
            assert stack.process.poll() is None
        # Once stopped, the next start begins afresh.
        assert reset(tmp_path, "--yes").returncode == 0
        assert not (tmp_path / "var").exists()
