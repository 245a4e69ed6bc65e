"""An organizer sees why its renewal billed N groups (issue 16), in headless Chromium
against the real stack (``ledger serve``, ``ledger worker``, the Stripe double; the
``stack`` fixture of test_browser.py).

Groups open (some with names) and enroll; mid-period groups close and open; Stripe's
test clock renews the subscription. From the billing page one click on the renewal
invoice reaches its explanation: every group counted, by name where the platform sent
one, every change since the enrollment invoice, and the groups-over-time chart with its
table fallback, on a desktop and at 375 px. Screenshots in
``test-artifacts/browser/invoice-detail/``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import count

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.browser_support import DESKTOP, PHONE, Screenshots, chromium, no_horizontal_scroll
from tests.e2e.test_browser import (
    ORGANIZER,
    SERVICE_TOKEN,
    Stack,
    stack,  # noqa: F401 (the real stack, as a fixture)
)
from tests.support.processes import wait_for

_ids = count(1)


def change(real: Stack, action: str, groups: dict[str, str | None]) -> None:
    """Changes as the platform sends them, with ``group_name`` where it has one."""
    at = datetime.now(UTC).isoformat()
    changes = [
        {
            "change_id": f"detail-{next(_ids)}",
            "organizer_id": ORGANIZER,
            "group_id": group_id,
            "action": action,
            "occurred_at": at,
        }
        | ({} if name is None else {"group_name": name})
        for group_id, name in groups.items()
    ]
    answer = httpx.post(
        f"{real.base}/internal/group-changes",
        json={"changes": changes},
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=10,
    )
    answer.raise_for_status()
    assert answer.json()["summary"]["applied"] == len(changes), answer.text


def enroll(page: Page, real: Stack, token: str) -> None:
    page.goto(f"{real.base}/#token={token}")
    expect(page).to_have_url(re.compile(r"/enroll$"))
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/_double/checkout/cs_"))
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're enrolled", timeout=60_000)


def renew(real: Stack, token: str) -> None:
    """Stripe's clock to the renewal: the ledger sets the quantity, Stripe invoices it."""
    renewal = datetime.fromisoformat(real.api("", token)["next_renewal_at"])
    real.move_stripe_clock(renewal - timedelta(days=2))
    wait_for(
        lambda: real.api("", token)["billed_quantity"] == 3,
        timeout=60,
        what="the ledger to set the subscription's quantity to 3",
    )
    real.move_stripe_clock(renewal + timedelta(hours=2))

    def renewal_invoiced() -> bool:
        invoices = real.api("/invoices", token)["invoices"]
        return any(i["billing_reason"] == "subscription_cycle" for i in invoices)

    wait_for(renewal_invoiced, timeout=60, what="the renewal invoice to be recorded")


def test_an_organizer_sees_why_its_renewal_billed_n_groups(stack: Stack) -> None:  # noqa: F811
    change(stack, "activated", {"grp-chess": "Chess club", "grp-choir": "Choir", "grp-9": None})
    token = stack.token(ORGANIZER)
    wait_for(
        lambda: (stack.api("", token) or {}).get("active_groups", {}).get("count") == 3,
        what="the worker to project the organizer's groups",
    )
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP, locale="en-GB")
        shots = Screenshots(page, "invoice-detail")
        enroll(page, stack, token)
        change(stack, "deactivated", {"grp-choir": None})
        change(stack, "activated", {"grp-drama": "Drama society"})
        wait_for(
            lambda: stack.api("", token)["active_groups"]["count"] == 3,
            what="the mid-period changes to reach the billing page",
        )
        renew(stack, token)

        page.goto(f"{stack.base}/billing")
        renewal_row = page.locator("table.invoices tbody tr", has_text="Renewal")
        expect(renewal_row).to_contain_text("3")
        timeline = page.locator(".timeline")
        expect(timeline).to_contain_text("Group Drama society (grp-drama) opened")
        groups_filter = page.get_by_role("button", name="Groups", exact=True)
        groups_filter.click()  # the story without group changes
        expect(groups_filter).to_have_attribute("aria-pressed", "false")
        expect(timeline).not_to_contain_text("Drama society")
        groups_filter.click()
        shots.take("billing")
        renewal_row.get_by_role("link").click()  # one click from the billing page

        expect(page).to_have_url(re.compile(r"/invoices/in_"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Invoice explained")
        counted = page.locator(".counted-groups")
        for name in ("Chess club", "Drama society", "grp-9"):
            expect(counted).to_contain_text(name)
        expect(counted).not_to_contain_text("Choir")
        changes = page.locator(".group-changes li")
        expect(changes).to_have_count(2)
        expect(changes.nth(0)).to_contain_text("Choir (grp-choir) closed")
        expect(changes.nth(1)).to_contain_text("Drama society (grp-drama) opened")
        chart = page.get_by_role("img", name=re.compile("Active groups over time"))
        expect(chart).to_be_visible()
        shots.take("invoice-explained")

        page.get_by_text("Show the numbers as a table").click()
        billed = page.locator("table", has=page.get_by_text("Groups billed", exact=True))
        expect(billed.locator("tbody tr").last).to_contain_text("3")
        active = page.locator("table", has=page.locator("caption", has_text="Active groups"))
        expect(active.locator("tbody tr").last).to_contain_text("3")
        shots.take("chart-table")

        page.set_viewport_size(PHONE)
        expect(counted).to_contain_text("Drama society")
        assert no_horizontal_scroll(page)
        shots.take("phone")
