"""A real ``ledger dev up`` in a temporary folder, driven as a person at a terminal would."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import httpx

from app.dev_env import read_dev_env
from tests.support.processes import LEDGER, free_port, ledger_env, run_ledger, wait_for

_change_ids = count(1)


@dataclass
class DevStack:
    """One running ``ledger dev up`` (its own session, like a terminal's job)."""

    cwd: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def dev_env(self) -> dict[str, str]:
        return read_dev_env(self.cwd / "var" / "dev.env")

    @property
    def double(self) -> str:
        return self.dev_env()["STRIPE_API_BASE"]

    def output(self) -> str:
        return self.log.read_text()

    def ledger(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A ``ledger`` command beside the stack, with no LEDGER_/STRIPE_ variable set."""
        return run_ledger(*args, cwd=self.cwd)

    def token(self, organizer_id: str) -> str:
        issued = self.ledger("token", "issue", "--organizer", organizer_id)
        assert issued.returncode == 0, issued.stderr
        return issued.stdout.strip()

    def api(self, organizer_id: str, path: str = "", *, method: str = "GET") -> httpx.Response:
        return httpx.request(
            method,
            f"{self.base}/api/organizers/{organizer_id}{path}",
            headers={"Authorization": f"Bearer {self.token(organizer_id)}"},
            json={} if method == "POST" else None,
            timeout=30,
        )

    def change_groups(self, organizer_id: str, action: str, *group_ids: str) -> httpx.Response:
        """The platform's feed, authenticated with the service token from var/dev.env."""
        at = datetime.now(UTC).isoformat()
        changes = [
            {
                "change_id": f"chg-{os.getpid()}-{next(_change_ids)}",
                "organizer_id": organizer_id,
                "group_id": group_id,
                "action": action,
                "occurred_at": at,
            }
            for group_id in group_ids
        ]
        token = self.dev_env()["LEDGER_SERVICE_TOKEN"]
        return httpx.post(
            f"{self.base}/internal/group-changes",
            json={"changes": changes},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def enroll(self, organizer_id: str) -> None:
        """Enroll through the ledger's API and pay on the double's Checkout page."""
        link = self.api(organizer_id, "/enrollment", method="POST")
        assert link.status_code in (200, 201), link.text
        paid = httpx.post(link.json()["url"], follow_redirects=False, timeout=30)
        assert paid.status_code == 303, paid.text

        def active() -> bool:
            found = self.api(organizer_id)
            subscription = found.json().get("subscription") if found.status_code == 200 else None
            return subscription is not None and subscription["status"] == "active"

        wait_for(active, timeout=60, what=f"{organizer_id}'s checkout to reach the ledger")

    def signal(self, signum: int, *, group: bool) -> int:
        """Send ``signum`` to the stack (``group``: to its whole process group, as a
        terminal's Ctrl-C does) and return its exit code."""
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        return self.process.wait(timeout=60)


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def dev_stack(
    cwd: Path,
    *,
    port: int | None = None,
    log: str = "dev.log",
    env: dict[str, str] | None = None,
) -> Iterator[DevStack]:
    """``ledger dev up`` in ``cwd`` until the block ends (stopped with SIGTERM); ``env``
    adds variables to its environment (which has no LEDGER_/STRIPE_ one otherwise)."""
    port = port or free_port()
    log_path = cwd / log
    with log_path.open("w") as out:
        process = subprocess.Popen(
            [*LEDGER, "dev", "up", "--port", str(port)],
            cwd=cwd,
            env=ledger_env({"LEDGER_WORKER_POLL_S": "0.1", **(env or {})}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = DevStack(cwd=cwd, port=port, process=process, log=log_path)
    try:
        wait_for(lambda: _up_or_dead(stack), timeout=60, what="the dev stack's /readyz")
        assert process.poll() is None, stack.output()
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _up_or_dead(stack: DevStack) -> bool:
    return stack.process.poll() is not None or ready(stack.base)


def billing(stack: DevStack, organizer_id: str) -> dict[str, Any]:
    answer = stack.api(organizer_id)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data
