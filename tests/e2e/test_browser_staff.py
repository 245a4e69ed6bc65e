"""The staff area (/staff) in headless Chromium against the real stack: ``ledger serve``
(serving ``web/dist``), ``ledger worker`` and the Stripe double, on SQLite.

The store is seeded first through the real process manager against that same double: a
quantity sync Stripe refused for good (``org-failing``) and a renewal draft billed at the
wrong quantity (``org-risky``, a renewal at risk at once). A finance user finds the
renewal at risk and opens that organizer; an ops user retries the failed sync; an
organizer sees no staff link and no staff page. Screenshots in
``test-artifacts/browser/staff-*/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from adapters.stripe.translate import HANDLED_EVENT_TYPES
from app.bootstrap import bootstrap
from app.settings import load_settings
from stripe_double import sdk_client
from tests.e2e.browser_support import (
    DESKTOP,
    PHONE,
    Screenshots,
    built_spa,
    chromium,
    no_horizontal_scroll,
)
from tests.support.clock import SteppingClock
from tests.support.processes import free_port, ledger_server, ledger_worker, run_ledger
from tests.support.sync_failures import SyncStack, sync_stack

TOKEN_SECRET = "browser-staff-token-secret-0123456789abcdef"
SERVICE_TOKEN = "browser-staff-service-token-0123456789"
FAILING, RISKY = "org-failing", "org-risky"


@dataclass
class Stack:
    base: str
    cwd: Path
    env: dict[str, str]
    failed_sync: str

    def token(self, *who: str) -> str:
        issued = run_ledger("token", "issue", *who, cwd=self.cwd, env=self.env)
        assert issued.returncode == 0, issued.stderr
        return issued.stdout.strip()

    def staff_api(self, path: str, token: str) -> Any:
        answer = httpx.get(
            f"{self.base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()


def seed(workdir: Path, sync: SyncStack) -> str:
    """The failed sync's id; the risky organizer's mismatched draft is recorded too."""
    (failed,) = sync.failed_syncs(FAILING)
    sync.subscribe(RISKY)
    sync.draft_mismatch(RISKY, billed=5, invoice_id="in_browser_draft")
    return failed


def env_for(sync: SyncStack, webhook_secret: str) -> dict[str, str]:
    return {
        "LEDGER_SERVICE_TOKEN": SERVICE_TOKEN,
        "LEDGER_TOKEN_SECRET": TOKEN_SECRET,
        "LEDGER_WORKER_POLL_S": "0.1",
        "STRIPE_API_KEY": "sk_test_double",
        "STRIPE_API_BASE": sync.base_url,
        "STRIPE_PRICE_ID": sync.price,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    built_spa()
    workdir = tmp_path_factory.mktemp("staff")
    (workdir / "var").mkdir()
    url = f"sqlite:///{workdir / 'var' / 'ledger.sqlite3'}"
    clock = SteppingClock()
    container = bootstrap(load_settings(database_url=url), clock=clock, embedded_migrate=False)
    container.migrate()
    try:
        with sync_stack(container, clock) as sync, sdk_client(sync.base_url) as stripe:
            failed = seed(workdir, sync)
            container.close()
            params: Any = {"url": "http://127.0.0.1:9/", "enabled_events": ["*"]}
            params["enabled_events"] = sorted(HANDLED_EVENT_TYPES)
            endpoint = stripe.v1.webhook_endpoints.create(params=params)
            env = env_for(sync, str(endpoint["secret"]))
            port = free_port()
            env["LEDGER_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
            with (
                ledger_server(cwd=workdir, env=env, port=port) as base,
                ledger_worker(cwd=workdir, env=env),
            ):
                stripe.v1.webhook_endpoints.update(
                    str(endpoint["id"]), params={"url": f"{base}/webhooks/stripe"}
                )
                yield Stack(base, workdir, env, failed)
    finally:
        container.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def open_as(browser: Browser, stack: Stack, path: str, token: str, *, phone: bool = False) -> Page:
    page = browser.new_page(viewport=PHONE if phone else DESKTOP, locale="en-GB")
    page.goto(f"{stack.base}{path}#token={token}")
    return page


def test_finance_finds_a_renewal_at_risk_and_opens_its_organizer(
    stack: Stack, browser: Browser
) -> None:
    token = stack.token("--role", "finance")
    page = open_as(browser, stack, "/staff", token)
    shots = Screenshots(page, "staff-finance-at-risk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Renewals desk")
    at_risk = page.locator("#at-risk")
    expect(at_risk.locator(".staff-card").filter(has_text=RISKY)).to_be_visible(timeout=30_000)
    expect(page.locator("#sync-failures")).to_contain_text(stack.failed_sync)
    expect(page.locator("#sync-failures")).to_contain_text("Only ops can retry")
    expect(
        page.locator("#sync-failures").get_by_role("button", name=re.compile("Retry"))
    ).to_have_count(0)
    expect(page.locator("#draft-mismatches")).to_contain_text("in_browser_draft")
    shots.take("overview")

    at_risk.get_by_role("link", name=RISKY).first.click()
    expect(page).to_have_url(re.compile(rf"/staff/organizers/{RISKY}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Organizer {RISKY}")
    expect(page.locator("#subscription-heading")).to_be_visible(timeout=30_000)
    state = page.get_by_role("region", name=re.compile("State as of"))
    expect(state).to_contain_text("Version")
    shots.take("organizer")

    page.get_by_label(re.compile("As of")).fill("2001-01-01T00:00:00")
    page.get_by_role("button", name="Show state").click()
    expect(state).to_contain_text("was registered at 2001-01-01")
    shots.take("state-before-it-existed")


def test_a_staff_sign_in_lands_on_the_renewals_desk(stack: Stack, browser: Browser) -> None:
    page = open_as(browser, stack, "/", stack.token("--role", "ops"))
    expect(page).to_have_url(re.compile(r"/staff$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Renewals desk")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Staff")).to_be_visible()
    expect(nav.get_by_role("link", name="Billing")).to_have_count(0)
    Screenshots(page, "staff-landing").take("desk")


def test_finance_searches_an_organizer_with_the_keyboard(stack: Stack, browser: Browser) -> None:
    page = open_as(browser, stack, "/staff", stack.token("--role", "finance"))
    shots = Screenshots(page, "staff-search")
    search = page.get_by_role("searchbox")
    search.focus()
    page.keyboard.type("org-fail")
    page.keyboard.press("Enter")
    results = page.locator("#search-results")
    expect(results.get_by_role("link", name=FAILING)).to_be_visible()
    expect(results).not_to_contain_text(RISKY)
    shots.take("results")
    results.get_by_role("link", name=FAILING).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Organizer {FAILING}")


def test_ops_retries_a_failed_sync(stack: Stack, browser: Browser) -> None:
    token = stack.token("--role", "ops")
    page = open_as(browser, stack, "/staff", token)
    shots = Screenshots(page, "staff-ops-retry")
    failure = page.locator("#sync-failures .staff-card").filter(has_text=stack.failed_sync)
    expect(failure).to_be_visible(timeout=30_000)
    retry = failure.get_by_role("button", name=re.compile("^Retry"))
    retry.click()
    expect(failure).to_contain_text("Send this sync to Stripe again?")
    confirm = failure.get_by_role("button", name="Confirm retry")
    expect(confirm).to_be_focused()
    shots.take("confirm")
    failure.get_by_role("button", name="Cancel").click()
    expect(retry).to_be_focused()
    page.keyboard.press("Enter")  # the keyboard alone: Retry, then Confirm retry
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    notice = failure.get_by_role("status")
    expect(notice).to_contain_text(re.compile(r"Retry requested: sync sync_\S+ is pending"))
    shots.take("retried")
    retry_id = re.search(r"sync (sync_\S+) is", notice.inner_text())
    assert retry_id is not None
    failures = stack.staff_api("/api/ops/sync-failures?include_retried=true", token)
    (entry,) = [f for f in failures["entries"] if f["sync_id"] == stack.failed_sync]
    assert entry["later_sync_id"] == retry_id.group(1)


def test_an_organizer_sees_no_staff_link_and_no_staff_page(stack: Stack, browser: Browser) -> None:
    page = open_as(browser, stack, "/billing", stack.token("--organizer", FAILING))
    shots = Screenshots(page, "staff-organizer-refused")
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Staff")).to_have_count(0)
    expect(page.locator('a[href^="/staff"]')).to_have_count(0)
    page.goto(f"{stack.base}/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("#at-risk")).to_have_count(0)
    shots.take("staff-not-found")


def test_the_staff_pages_fit_a_375_px_phone(stack: Stack, browser: Browser) -> None:
    token = stack.token("--role", "ops")
    page = open_as(browser, stack, "/staff", token, phone=True)
    shots = Screenshots(page, "staff-phone")
    expect(page.locator("#at-risk .staff-card").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("region", name="Draft mismatches")).to_contain_text(RISKY)
    assert no_horizontal_scroll(page)
    shots.take("overview")
    page.goto(f"{stack.base}/staff/organizers/{RISKY}")
    expect(page.locator("#subscription-heading")).to_be_visible(timeout=30_000)
    assert no_horizontal_scroll(page)
    shots.take("organizer")
