"""``ledger reconcile`` and ``ledger enroll-existing`` as real processes against the
Stripe double, on the embedded default (SQLite in the working directory)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from stripe_double import running_double, sdk_client
from tests.support.processes import ledger_worker, run_ledger, wait_for


@dataclass
class Account:
    """A Stripe double with one pre-existing subscription, and the env that reaches it."""

    client: stripe.StripeClient
    env: dict[str, str]
    cwd: Path
    subscription: dict[str, Any]

    def ledger(self, *args: str) -> tuple[int, str, str]:
        result = run_ledger(*args, cwd=self.cwd, env=self.env)
        return result.returncode, result.stdout, result.stderr

    def reconcile_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = self.ledger("reconcile", "--json", *args)
        assert err == "", err
        document: dict[str, Any] = json.loads(out)
        return code, document

    def stripe_quantity(self) -> int:
        found = self.client.v1.subscriptions.retrieve(self.subscription["id"])
        return int(found["items"]["data"][0]["quantity"])

    def set_quantity(self, quantity: int) -> None:
        item = self.subscription["items"]["data"][0]["id"]
        self.client.v1.subscription_items.update(item, params={"quantity": quantity})


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    with (
        running_double(webhook_delivery=False) as double,
        httpx.Client(base_url=double.base_url) as admin,
        sdk_client(double.base_url) as client,
    ):
        price = admin.post("/_double/seed", json={"unit_amount": 500}).json()["price"]
        customer = client.v1.customers.create(params={"email": "old@example.com"})
        subscription = client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price, "quantity": 2}]}
        ).to_dict()
        env = {"STRIPE_API_KEY": "sk_test_double", "STRIPE_API_BASE": double.base_url}
        yield Account(client, env, tmp_path, subscription)


def test_enroll_report_fix_and_report_again(account: Account) -> None:
    sub = account.subscription["id"]
    code, out, err = account.ledger("enroll-existing", "org-1", "--subscription", sub)
    assert (code, err) == (0, "")
    assert "recorded" in out
    code, out, _ = account.ledger("enroll-existing", "org-1", "--subscription", sub)
    assert (code, out.strip().endswith("already enrolled")) == (0, True)

    # No groups yet: the organizer is billable for the minimum (1), Stripe bills 2.
    code, report = account.reconcile_json()
    assert code == 1
    assert report["drift"] is True
    assert report["differences"] == [
        {
            "kind": "quantity",
            "organizer_id": "org-1",
            "subscription_id": sub,
            "stripe_value": 2,
            "ledger_value": 1,
            "correctable": True,
        }
    ]

    code, fixed = account.reconcile_json("--fix")
    assert code == 0
    assert [(d["fix"], d["resolved"]) for d in fixed["differences"]] == [("synced to 1", True)]
    assert fixed["run_id"] != report["run_id"]
    assert account.stripe_quantity() == 1

    code, again = account.reconcile_json()
    assert (code, again["drift"], again["differences"]) == (0, False, [])
    code, out, _ = account.ledger("reconcile")
    assert (code, out.startswith("no drift: 1 subscription(s)")) == (0, True)


def test_one_line_errors_and_their_exit_codes(account: Account) -> None:
    sub = account.subscription["id"]
    keyless = {"STRIPE_API_BASE": account.env["STRIPE_API_BASE"]}
    cases = [
        (("reconcile",), keyless, 78, "STRIPE_API_KEY"),
        (("reconcile", "--fix"), {**keyless, "STRIPE_API_KEY": " "}, 78, "STRIPE_API_KEY"),
        (("enroll-existing", "org-1", "--subscription", sub), keyless, 78, "STRIPE_API_KEY"),
        (("enroll-existing", "org-1", "--subscription", "sub_nope"), account.env, 1, "sub_nope"),
        (("reconcile", "--organizer", "org-nobody"), account.env, 1, "org-nobody"),
        (("enroll-existing", "org-1"), account.env, 2, "--subscription"),
    ]
    for args, env, expected, mentions in cases:
        result = run_ledger(*args, cwd=account.cwd, env=env)
        assert result.returncode == expected, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert mentions in result.stderr
    assert account.ledger("enroll-existing", "org-1", "--subscription", sub)[0] == 0
    code, _, err = account.ledger("enroll-existing", "org-2", "--subscription", sub)
    assert code == 1
    assert "already linked to organizer 'org-1'" in err


def test_the_worker_reconciles_on_a_schedule(account: Account) -> None:
    sub = account.subscription["id"]
    assert account.ledger("enroll-existing", "org-1", "--subscription", sub)[0] == 0
    account.set_quantity(5)
    env = {**account.env, "LEDGER_RECONCILE_EVERY": "1s", "LEDGER_WORKER_POLL_S": "0.1"}
    with ledger_worker(cwd=account.cwd, env=env) as worker:
        wait_for(lambda: account.stripe_quantity() == 1, what="the worker to correct Stripe")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    code, report = account.reconcile_json()
    assert (code, report["differences"]) == (0, [])
