"""`ledger dev up` (the README's main job): server and worker together, stopped cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx

from tests.support.processes import LEDGER, free_port, ledger_env, run_ledger, wait_for
from tests.support.stripe_payloads import checkout_event
from tests.support.webhooks import SECRET, signed


def test_the_dev_stack_serves_translates_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {"STRIPE_WEBHOOK_SECRET": SECRET, "LEDGER_WORKER_POLL_S": "0.1"}
    log = (tmp_path / "dev.log").open("w")
    stack = subprocess.Popen(
        [*LEDGER, "dev", "up", "--port", str(port)],
        cwd=tmp_path,
        env=ledger_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, what="the dev stack's /readyz")
        body, headers = signed(
            checkout_event("basil", event_id="evt_dev", client_reference_id="org-dev")
        )
        assert (
            httpx.post(f"{base}/webhooks/stripe", content=body, headers=headers).status_code == 200
        )

        def linked() -> bool:
            shown = run_ledger("organizer", "show", "org-dev", "--json", cwd=tmp_path, env=env)
            return (
                shown.returncode == 0
                and json.loads(shown.stdout)["stripe"]["customer_id"] is not None
            )

        wait_for(linked, what="the worker to translate the delivery")
        stack.send_signal(signal.SIGTERM)
        assert stack.wait(timeout=30) == 0
    finally:
        if stack.poll() is None:
            stack.kill()
            stack.wait()
        log.close()
