"""`ledger dev up` (the README's main job): server, worker and — without a Stripe key —
the Stripe double, configured like Stripe; a checkout on the double reaches the ledger."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import httpx

from adapters.stripe.double import sdk_client
from tests.support.processes import LEDGER, free_port, ledger_env, run_ledger, wait_for


def test_a_newcomer_gets_a_working_system_with_no_stripe_account(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "dev.log"
    with log_path.open("w") as log:
        stack = subprocess.Popen(
            [*LEDGER, "dev", "up", "--port", str(port)],
            cwd=tmp_path,
            env=ledger_env({"LEDGER_WORKER_POLL_S": "0.1"}),
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
            found = re.search(r"using the Stripe test double at (http://\S+)", log_path.read_text())
            assert found, log_path.read_text()
            double = found[1]
            with sdk_client(double) as client:
                price = client.v1.prices.list(params={"limit": 1}).data[0]
                session = client.v1.checkout.sessions.create(
                    params={
                        "mode": "subscription",
                        "line_items": [{"price": price.id, "quantity": 2}],
                        "client_reference_id": "org-newcomer",
                        "success_url": "http://example.invalid/done",
                    }
                )
            paid = httpx.post(str(session.url), follow_redirects=False)
            assert paid.status_code == 303

            def enrolled() -> bool:
                shown = run_ledger("organizer", "show", "org-newcomer", "--json", cwd=tmp_path)
                return (
                    shown.returncode == 0
                    and json.loads(shown.stdout)["stripe"]["status"] == "active"
                )

            wait_for(enrolled, timeout=60, what="the checkout's webhooks to reach the ledger")
            stack.send_signal(signal.SIGTERM)
            assert stack.wait(timeout=40) == 0
        finally:
            if stack.poll() is None:
                stack.kill()
                stack.wait()
