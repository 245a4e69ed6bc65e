"""An existing customer enrolls in the SPA (issue 13), in headless Chromium against the
real stack (``ledger serve``, ``ledger worker``, the Stripe double; test_browser.py's).

A subscription made by hand before the ledger, naming the organizer in its metadata, is
found on the enroll page ("We found your existing subscription"); the organizer confirms
the move and lands on the billing page; at the renewal Stripe bills per group, once.
Screenshots in ``test-artifacts/browser/existing-subscription/``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
from playwright.sync_api import expect

from stripe_double import sdk_client
from tests.e2e import test_browser
from tests.e2e.browser_support import DESKTOP, Screenshots, chromium
from tests.e2e.test_browser import ORGANIZER, Stack
from tests.support.processes import wait_for

stack = test_browser.stack  # the same real stack, as a fixture of this module


def test_an_existing_customer_confirms_the_move_and_renews_per_group(stack: Stack) -> None:
    with httpx.Client(base_url=stack.double, timeout=10) as admin:
        old = admin.post(
            "/_double/seed", json={"unit_amount": 4900, "product_name": "Enterprise (by hand)"}
        ).json()["price"]
    with sdk_client(stack.double) as stripe:
        customer = stripe.v1.customers.create(params={"email": "choirs@example.com"})
        subscription = stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": old, "quantity": 1}],
                "metadata": {"organizer_id": ORGANIZER},
            }
        )
    stack.change_groups(ORGANIZER, "activated", "berlin-hikers", "munich-runners", "hamburg-reads")
    token = stack.token(ORGANIZER)
    wait_for(
        lambda: (stack.api("", token) or {}).get("active_groups", {}).get("count") == 3,
        what="the worker to project the organizer's groups",
    )

    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP, locale="en-GB")
        shots = Screenshots(page, "existing-subscription")

        # 1. The enroll page finds the subscription and says what moves when.
        page.goto(f"{stack.base}/#token={token}")
        expect(page).to_have_url(re.compile(r"/enroll$"))
        found = page.get_by_role("region", name="We found your existing subscription")
        expect(found).to_contain_text(subscription.id)
        expect(found).to_contain_text("1 \N{MULTIPLICATION SIGN} €49.00 per month")
        expect(found).to_contain_text("Nothing is charged now")
        expect(found).to_contain_text("With 3 groups today, that renewal would be €15.00")
        expect(page.get_by_role("button", name="Continue to payment")).to_have_count(0)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        shots.take("found")

        # 2. Confirming moves it (no Checkout) and shows the billing page.
        # The SPA waits for the ledger's read models to show the subscription first.
        page.get_by_role("button", name="Move to per-group billing").click()
        expect(page).to_have_url(re.compile(r"/billing$"), timeout=60_000)
        expect(page.locator(".badge")).to_have_text("Active")
        shots.take("billing-after-move")

        # 3. The renewal bills 3 groups at the per-group price, and nothing else was charged.
        billing = stack.api("", token)
        renewal = datetime.fromisoformat(billing["next_renewal_at"])
        with httpx.Client(base_url=stack.double, timeout=30) as admin:
            at = int((renewal + timedelta(hours=2)).timestamp())
            admin.post("/_double/clock", json={"now": at}).raise_for_status()
            admin.post("/_double/webhooks/flush", json={"timeout": 30}).raise_for_status()

        def renewal_invoiced() -> bool:
            invoices = (stack.api("/invoices", token) or {}).get("invoices", [])
            return any(i["billing_reason"] == "subscription_cycle" for i in invoices)

        wait_for(renewal_invoiced, timeout=60, what="the renewal invoice to be recorded")
        page.reload()
        renewal_row = page.locator("table.invoices tbody tr", has_text="Renewal")
        expect(renewal_row).to_contain_text("€15.00")
        shots.take("renewed-per-group")

    with sdk_client(stack.double) as stripe:
        invoices = stripe.v1.invoices.list(params={"subscription": subscription.id}).data
    reasons = sorted(str(invoice.billing_reason) for invoice in invoices)
    assert reasons == ["subscription_create", "subscription_cycle"]  # no second charge
