"""`make run` twice: the second start has the first one's world (issue 9).

The ledger's store was always under ./var; the double's state now is too, and the
secrets in var/dev.env are reused, so organizers, invoices, prices, tokens and the
webhook endpoint all survive a restart.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from stripe_double import sdk_client
from tests.e2e.dev_stack_support import DevStack, billing, dev_stack
from tests.support.processes import free_port

ORGANIZER = "org-restart"


def test_a_restarted_stack_has_the_organizers_invoices_and_prices_it_had(
    tmp_path: Path,
) -> None:
    port = free_port()  # `make run` always serves on 8000: one port for both starts
    with dev_stack(tmp_path, port=port, log="first.log") as first:
        assert first.change_groups(ORGANIZER, "activated", "g-1", "g-2").status_code == 200
        first.enroll(ORGANIZER)
        token = first.token(ORGANIZER)
        env_before = first.dev_env()
        seen = billing(first, ORGANIZER)
        invoices = first.api(ORGANIZER, "/invoices").json()["invoices"]
        assert invoices, "the checkout's first invoice never reached the ledger"
    assert first.process.returncode == 0, first.output()

    with dev_stack(tmp_path, port=port, log="second.log") as second:
        assert second.dev_env() == env_before
        # The token issued before the restart is still good: same secret.
        answer = httpx.get(
            f"{second.base}/api/organizers/{ORGANIZER}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        again = answer.json()
        assert again["price"] == seen["price"] is not None  # no "No such price"
        assert again["subscription"] == seen["subscription"]
        assert second.api(ORGANIZER, "/invoices").json()["invoices"] == invoices
        with sdk_client(second.double) as stripe:
            subscription = stripe.v1.subscriptions.retrieve(seen["subscription"]["subscription_id"])
        assert subscription.status == "active"

        reconciled = second.ledger("reconcile", "--json")
        assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
        assert "missing" not in reconciled.stdout

        # A fresh sign-in link works.
        link = re.findall(r"sign in as organizer org-demo: \S+#token=(\S+)", second.output())
        assert link, second.output()
        signed_in = httpx.get(
            f"{second.base}/api/organizers/org-demo",
            headers={"Authorization": f"Bearer {link[-1]}"},
            timeout=30,
        )
        assert signed_in.status_code != 401, signed_in.text

        assert_webhooks_reach(second, subscription.id)


def test_a_stack_restarted_on_another_port_moves_the_webhook_endpoint(tmp_path: Path) -> None:
    with dev_stack(tmp_path, log="first.log") as first:
        first.enroll(ORGANIZER)
        subscription_id = billing(first, ORGANIZER)["subscription"]["subscription_id"]
        sourced = first.dev_env()
    # Restarted from a shell that ran `. var/dev.env`: those values are not the user's
    # choice, so the double still starts and the public URL follows the new port.
    with dev_stack(tmp_path, log="second.log", env=sourced) as second:
        assert second.port != first.port
        assert second.dev_env()["LEDGER_PUBLIC_URL"] == second.base
        assert "using the Stripe test double" in second.output()
        assert_webhooks_reach(second, subscription_id)
        with sdk_client(second.double) as stripe:
            endpoints = stripe.v1.webhook_endpoints.list().data
        assert [e.url for e in endpoints] == [f"{second.base}/webhooks/stripe"]


def assert_webhooks_reach(stack: DevStack, subscription_id: str) -> None:
    """A change on the double is delivered to this stack's server, which accepts it
    (a bad signature would be refused with a 4xx)."""
    with sdk_client(stack.double) as stripe:
        stripe.v1.subscriptions.update(
            subscription_id, params={"metadata": {"organizer_id": ORGANIZER, "seen": "yes"}}
        )
    with httpx.Client(base_url=stack.double, timeout=30) as admin:
        assert admin.post("/_double/webhooks/flush", json={"timeout": 20}).json()["flushed"]
        deliveries = admin.get("/_double/webhooks/deliveries").json()
    assert deliveries
    assert {d["status"] for d in deliveries} == {200}, deliveries
    assert {d["url"] for d in deliveries} == {f"{stack.base}/webhooks/stripe"}
