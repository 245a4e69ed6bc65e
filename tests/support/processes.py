"""Real `ledger` processes for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

LEDGER = [sys.executable, "-m", "app.entrypoints.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ledger_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "STRIPE_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    # Test workers serve no metrics port unless a test asks (9464 is one per machine).
    env["LEDGER_WORKER_METRICS_PORT"] = "0"
    env.update(extra or {})
    return env


def run_ledger(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LEDGER, *args],
        cwd=cwd,
        env=ledger_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def http_process(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None,
    log: Path,
    port: int,
    ready_path: str = "/healthz",
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """An HTTP server subprocess (``argv`` + ``--port``); yields (base URL, process) once
    ``ready_path`` answers 200, and stops it on exit."""
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [*argv, "--port", str(port)],
            cwd=cwd,
            env=ledger_env(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(f"{base}{ready_path}", process, log)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def ledger_server(
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """``ledger serve`` on ``port`` (or a free one); yields its base URL once /healthz answers."""
    with http_process(
        [*LEDGER, "serve"],
        cwd=cwd,
        env=env,
        log=log or cwd / "server.log",
        port=port or free_port(),
    ) as (base, _):
        yield base


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"server exited with {process.returncode}: {log.read_text()}"
            raise RuntimeError(msg)
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    msg = f"{url} did not answer 200: {log.read_text()}"
    raise RuntimeError(msg)


@contextmanager
def ledger_worker(
    *, cwd: Path, env: Mapping[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``ledger worker`` in the background; stopped with SIGTERM (as Kubernetes does)."""
    log_path = log or cwd / "worker.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [*LEDGER, "worker"],
            cwd=cwd,
            env=ledger_env(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_for(
    predicate: Callable[[], bool], *, timeout: float = 30, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    msg = f"timed out waiting for {what}"
    raise TimeoutError(msg)


@contextmanager
def ledger_dev_up(
    *, cwd: Path, env: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[tuple[str, str]]:
    """``ledger dev up`` (server, worker and, without a Stripe key, the double); yields
    (the server's base URL, the double's) once ``/readyz`` answers, and checks that it
    stops cleanly (exit 0) on SIGTERM."""
    port = port or free_port()
    log_path = cwd / "dev.log"
    with log_path.open("w") as log:
        stack = subprocess.Popen(
            [*LEDGER, "dev", "up", "--port", str(port)],
            cwd=cwd,
            env=ledger_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(f"{base}/readyz", stack, log_path)
        found = re.search(r"using the Stripe test double at (http://\S+)", log_path.read_text())
        if found is None:
            msg = f"no Stripe double in the dev stack's log: {log_path.read_text()}"
            raise RuntimeError(msg)
        yield base, found[1]
        stack.send_signal(signal.SIGTERM)
        if stack.wait(timeout=40) != 0:
            msg = f"ledger dev up exited with {stack.returncode}: {log_path.read_text()}"
            raise RuntimeError(msg)
    finally:
        if stack.poll() is None:
            stack.kill()
            stack.wait()
