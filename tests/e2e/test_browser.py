"""The SPA in headless Chromium against the real stack: ``ledger serve`` (serving
``web/dist``), ``ledger worker`` and the Stripe double, on SQLite in a temporary folder.

A new organizer enrolls through the double's Checkout page and sees an active
subscription; later its groups change and the subscription renews, and the billing page's
timeline explains the new quantity. Every step leaves a screenshot in
``test-artifacts/browser/real-stack/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from adapters.stripe.translate import HANDLED_EVENT_TYPES
from stripe_double import running_double, sdk_client
from tests.e2e.browser_support import DESKTOP, Screenshots, built_spa, chromium
from tests.support.processes import (
    free_port,
    ledger_server,
    ledger_worker,
    run_ledger,
    wait_for,
)

ORGANIZER = "org-browser"
SERVICE_TOKEN = "browser-test-service-token-0123456789"
TOKEN_SECRET = "browser-test-token-secret-0123456789abcdef"
_change_ids = count(1)


@dataclass
class Stack:
    """The running processes, and what a test needs to talk to them."""

    base: str
    double: str
    cwd: Path
    env: dict[str, str]

    def token(self, organizer_id: str) -> str:
        issued = run_ledger(
            "token", "issue", "--organizer", organizer_id, cwd=self.cwd, env=self.env
        )
        assert issued.returncode == 0, issued.stderr
        return issued.stdout.strip()

    def change_groups(self, organizer_id: str, action: str, *group_ids: str) -> None:
        """Group changes as the platform sends them (now, in the ledger's real time)."""
        at = datetime.now(UTC).isoformat()
        changes = [
            {
                "change_id": f"chg-{next(_change_ids)}",
                "organizer_id": organizer_id,
                "group_id": group_id,
                "action": action,
                "occurred_at": at,
            }
            for group_id in group_ids
        ]
        answer = httpx.post(
            f"{self.base}/internal/group-changes",
            json={"changes": changes},
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
            timeout=10,
        )
        answer.raise_for_status()
        assert answer.json()["summary"]["applied"] == len(changes), answer.text

    def api(self, path: str, token: str) -> Any:
        answer = httpx.get(
            f"{self.base}/api/organizers/{ORGANIZER}{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return answer.json() if answer.status_code == 200 else None

    def move_stripe_clock(self, to: datetime) -> None:
        """Stripe's time (the double's global clock) jumps: due renewal steps run."""
        with httpx.Client(base_url=self.double, timeout=30) as admin:
            admin.post("/_double/clock", json={"now": int(to.timestamp())}).raise_for_status()
            admin.post("/_double/webhooks/flush", json={"timeout": 30}).raise_for_status()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    built_spa()
    with running_double() as double, sdk_client(double.base_url) as stripe:
        with httpx.Client(base_url=double.base_url, timeout=10) as admin:
            price = admin.post("/_double/seed", json={"unit_amount": 500}).json()["price"]
        # The endpoint's URL is set once the server's port is known; its secret is needed first.
        endpoint_params: Any = {
            "url": "http://127.0.0.1:9/webhooks/stripe",
            "enabled_events": sorted(HANDLED_EVENT_TYPES),
        }
        endpoint = stripe.v1.webhook_endpoints.create(params=endpoint_params)
        env = {
            "LEDGER_SERVICE_TOKEN": SERVICE_TOKEN,
            "LEDGER_TOKEN_SECRET": TOKEN_SECRET,
            "LEDGER_WORKER_POLL_S": "0.1",
            "STRIPE_API_KEY": "sk_test_double",
            "STRIPE_API_BASE": double.base_url,
            "STRIPE_PRICE_ID": str(price),
            "STRIPE_WEBHOOK_SECRET": str(endpoint["secret"]),
        }
        # The SPA asks Checkout to return to its own origin, which must be the public one.
        port = free_port()
        env["LEDGER_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        migrated = run_ledger("migrate", cwd=tmp_path, env=env)
        assert migrated.returncode == 0, migrated.stderr
        with ledger_server(cwd=tmp_path, env=env, port=port) as base:
            url_params: Any = {"url": f"{base}/webhooks/stripe"}
            stripe.v1.webhook_endpoints.update(str(endpoint["id"]), params=url_params)
            with ledger_worker(cwd=tmp_path, env=env):
                yield Stack(base=base, double=double.base_url, cwd=tmp_path, env=env)


def timeline_text(page: Page) -> str:
    return page.locator(".timeline").inner_text()


def test_an_organizer_enrolls_and_the_timeline_explains_a_renewal(stack: Stack) -> None:
    stack.change_groups(ORGANIZER, "activated", "berlin-hikers", "munich-runners", "hamburg-reads")
    token = stack.token(ORGANIZER)

    def groups_known() -> bool:
        billing = stack.api("", token)
        return billing is not None and billing["active_groups"]["count"] == 3

    wait_for(groups_known, what="the worker to project the organizer's groups")

    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP, locale="en-GB")
        shots = Screenshots(page, "real-stack")

        # 1. Enrollment: the groups, the price and the monthly charge, then Checkout.
        page.goto(f"{stack.base}/#token={token}")
        expect(page).to_have_url(re.compile(r"/enroll$"))
        expect(page.locator(".facts__total")).to_contain_text("€15.00")
        shots.take("enroll")
        page.get_by_role("button", name="Continue to payment").click()
        expect(page).to_have_url(re.compile(r"/_double/checkout/cs_"))
        shots.take("stripe-checkout")
        page.get_by_role("button", name="Pay").click()

        # 2. Back from Checkout: waits for the webhook, then confirms.
        expect(page).to_have_url(re.compile(r"/enroll/return\?session_id=cs_"))
        shots.take("checkout-return")
        expect(page.get_by_role("heading", level=1)).to_have_text("You're enrolled", timeout=60_000)
        shots.take("enrolled")
        page.get_by_role("link", name="Go to your billing page").click()
        expect(page.locator(".badge")).to_have_text("Active")
        expect(page.locator(".timeline")).to_contain_text("Enrolled in per-group billing")
        shots.take("billing-active")

        # The customer adds a VAT id (Stripe reports customer.tax_id.created): shown.
        with sdk_client(stack.double) as stripe:
            (customer,) = stripe.v1.customers.list().data
            stripe.v1.customers.tax_ids.create(
                customer.id, params={"type": "eu_vat", "value": "DE123456789"}
            )
        wait_for(
            lambda: bool(stack.api("", token)["tax_ids"]),
            what="the tax id to reach the billing page",
        )
        page.reload()
        expect(page.get_by_role("list", name="Tax IDs")).to_have_text("DE123456789 (EU VAT)")

        # 3. Groups change mid-period: the timeline says what the next renewal bills.
        billing = stack.api("", token)
        renewal = datetime.fromisoformat(billing["next_renewal_at"])
        stack.change_groups(ORGANIZER, "deactivated", "berlin-hikers")
        stack.change_groups(ORGANIZER, "activated", "cologne-climbers", "leipzig-cyclists")
        wait_for(
            lambda: stack.api("", token)["active_groups"]["count"] == 4,
            what="the group changes to reach the billing page",
        )
        page.reload()
        closed = page.locator(".timeline__entry", has_text="Group berlin-hikers closed")
        expect(closed).to_contain_text(re.compile(r"→ 2 groups billed from the .+ renewal"))
        opened = page.locator(".timeline__entry", has_text="Group leipzig-cyclists opened")
        expect(opened).to_contain_text(re.compile(r"→ 4 groups billed from the .+ renewal"))
        shots.take("groups-changed")

        # 4. The renewal: Stripe announces it, the ledger sets 4 groups, Stripe bills them.
        stack.move_stripe_clock(renewal - timedelta(days=2))
        wait_for(
            lambda: stack.api("", token)["billed_quantity"] == 4,
            timeout=60,
            what="the ledger to set the subscription's quantity to 4",
        )
        stack.move_stripe_clock(renewal + timedelta(hours=2))

        def renewal_invoiced() -> bool:
            invoices = stack.api("/invoices", token)["invoices"]
            return any(i["billing_reason"] == "subscription_cycle" for i in invoices)

        wait_for(renewal_invoiced, timeout=60, what="the renewal invoice to be recorded")
        page.reload()
        expect(page.locator(".timeline")).to_contain_text("Billing set to 4 groups")
        renewal_row = page.locator("table.invoices tbody tr", has_text="Renewal")
        expect(renewal_row).to_contain_text("€20.00")
        expect(page.locator("#subscription-heading + .facts")).to_contain_text("4 groups")
        shots.take("renewed")
        assert "Group berlin-hikers closed" in timeline_text(page)
