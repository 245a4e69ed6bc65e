"""Stripe deliveries through real processes: `ledger serve` + `ledger worker` over HTTP."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import fresh_schema
from tests.support.processes import ledger_server, ledger_worker, run_ledger, wait_for
from tests.support.stripe_payloads import checkout_event, subscription_event
from tests.support.webhooks import SECRET, signed


def run_pipeline(workdir: Path, env: dict[str, str]) -> None:
    with ledger_server(cwd=workdir, env=env) as base, ledger_worker(cwd=workdir, env=env) as worker:
        # The subscription arrives before the checkout that links it: parked, then applied.
        for event in (
            subscription_event("basil", event_id="evt_e2e_sub", quantity=6),
            checkout_event("basil", event_id="evt_e2e_co", client_reference_id="org-e2e"),
        ):
            body, headers = signed(event)
            response = httpx.post(f"{base}/webhooks/stripe", content=body, headers=headers)
            assert response.status_code == 200

        def applied() -> bool:
            result = run_ledger("organizer", "show", "org-e2e", "--json", cwd=workdir, env=env)
            if result.returncode != 0:
                return False
            quantity: int | None = json.loads(result.stdout)["stripe"]["billed_quantity"]
            return quantity == 6

        wait_for(applied, what="the worker to apply both deliveries")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    listing = run_ledger("inbox", "list", "--json", cwd=workdir, env=env)
    statuses = {
        json.loads(line)["event_id"]: json.loads(line)["status"]
        for line in listing.stdout.splitlines()
    }
    assert statuses == {"evt_e2e_sub": "processed", "evt_e2e_co": "processed"}


def test_webhooks_become_organizer_state_on_the_embedded_default(tmp_path: Path) -> None:
    run_pipeline(tmp_path, {"STRIPE_WEBHOOK_SECRET": SECRET})


@pytest.mark.postgres
def test_webhooks_become_organizer_state_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    with fresh_schema(postgres_url) as url:
        env = {"STRIPE_WEBHOOK_SECRET": SECRET, "LEDGER_DATABASE_URL": url}
        assert run_ledger("migrate", cwd=tmp_path, env=env).returncode == 0
        run_pipeline(tmp_path, env)


def test_inbox_reprocess_is_idempotent(tmp_path: Path) -> None:
    env = {"STRIPE_WEBHOOK_SECRET": SECRET}
    run_pipeline(tmp_path, env)
    before = json.loads(
        run_ledger("organizer", "show", "org-e2e", "--json", cwd=tmp_path, env=env).stdout
    )
    result = run_ledger("inbox", "reprocess", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "2 processed" in result.stdout
    after = json.loads(
        run_ledger("organizer", "show", "org-e2e", "--json", cwd=tmp_path, env=env).stdout
    )
    assert after == before
    missing = run_ledger("inbox", "reprocess", "--id", "evt_nope", cwd=tmp_path, env=env)
    assert missing.returncode == 1
