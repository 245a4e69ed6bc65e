"""Ctrl-C never prints a traceback: not from `ledger dev up`, not from the double.

A terminal's Ctrl-C signals the whole foreground process group; `kill -INT` signals one
process. Both must end in an orderly stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.dev_stack_support import dev_stack
from tests.support.processes import LEDGER, free_port, ledger_env, wait_for


@pytest.mark.parametrize("group", [True, False], ids=["terminal-ctrl-c", "kill-int"])
def test_sigint_stops_dev_up_cleanly(tmp_path: Path, group: bool) -> None:
    with dev_stack(tmp_path) as stack:
        code = stack.signal(signal.SIGINT, group=group)
        output = stack.output()
    assert code == 0, output
    assert "Traceback" not in output
    # Every child stopped with it: nothing answers on the stack's ports any more.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{stack.base}/healthz", timeout=2)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{stack.double}/_double/config", timeout=2)


@pytest.mark.parametrize("group", [True, False], ids=["terminal-ctrl-c", "kill-int"])
def test_sigint_stops_the_double_cleanly(tmp_path: Path, group: bool) -> None:
    port = free_port()
    double = subprocess.Popen(
        [*LEDGER, "dev", "stripe", "--port", str(port), "--state-file", "var/double.json"],
        cwd=tmp_path,
        env=ledger_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/_double/config", timeout=1).is_success
        except httpx.TransportError:
            return False

    try:
        wait_for(up, what="the double")
        httpx.post(f"http://127.0.0.1:{port}/_double/seed", json={}).raise_for_status()
        if group:
            os.killpg(double.pid, signal.SIGINT)
        else:
            double.send_signal(signal.SIGINT)
        _, stderr = double.communicate(timeout=30)
    finally:
        if double.poll() is None:
            double.kill()
            double.communicate()
    assert "Traceback" not in stderr.decode()
    assert double.returncode in (0, 130), stderr.decode()
    assert (tmp_path / "var" / "double.json").exists()  # saved on the way out
