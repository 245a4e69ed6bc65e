"""The SPA in headless Chromium against a fake of the organizer API (browser_support):
states and paths the real stack cannot easily produce (errors, slow confirmations,
expired tokens), plus keyboard and phone checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_support import (
    DESKTOP,
    FAKE_SECRET,
    PHONE,
    FakeOrganizerApi,
    Screenshots,
    built_spa,
    chromium,
    no_horizontal_scroll,
    organizer_token,
    serve_in_thread,
)

ORGANIZER = "org-fake-1"


@dataclass
class Spa:
    api: FakeOrganizerApi
    base: str
    browser: Browser

    def open(
        self, path: str = "/", *, ttl: timedelta = timedelta(hours=1), phone: bool = False
    ) -> Page:
        """A fresh tab signed in with a token in the fragment, as the platform links in."""
        page = self.browser.new_page(viewport=PHONE if phone else DESKTOP, locale="en-GB")
        token = organizer_token(FAKE_SECRET, ORGANIZER, ttl=ttl)
        page.goto(f"{self.base}{path}#token={token}")
        return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    built_spa()
    with chromium() as browser:
        yield browser


@pytest.fixture
def spa(browser: Browser) -> Iterator[Spa]:
    api = FakeOrganizerApi(organizer_id=ORGANIZER)
    with serve_in_thread(api.app()) as base:
        yield Spa(api=api, base=base, browser=browser)


def heading(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


class TestEnrollment:
    def test_a_new_organizer_sees_the_charge_pays_and_waits_for_stripe(self, spa: Spa) -> None:
        page = spa.open()
        shots = Screenshots(page, "fake-enrollment")
        expect(page).to_have_url(re.compile(r"/enroll$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Enroll in per-group billing")
        charge = page.locator(".facts__total")
        expect(charge).to_contain_text("€35.00")
        expect(charge).to_contain_text("7 groups \u00d7 €5.00")
        expect(page.locator(".facts")).to_contain_text("€5.00 per month")
        shots.take("enroll")

        page.get_by_role("button", name="Continue to payment").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Fake checkout")
        shots.take("checkout")
        page.get_by_role("button", name="Pay").click()

        expect(page).to_have_url(re.compile(r"/enroll/return\?session_id=cs_fake$"))
        pending = page.get_by_text("Waiting for Stripe to confirm your payment…")
        expect(pending).to_be_visible()
        shots.take("waiting")
        assert page.locator("[aria-live=polite]").count() == 1

        expect(page.get_by_role("heading", level=1)).to_have_text("You're enrolled", timeout=15_000)
        shots.take("confirmed")
        page.get_by_role("link", name="Go to your billing page").click()
        expect(page).to_have_url(re.compile(r"/billing$"))
        expect(page.get_by_text("Active", exact=True)).to_be_visible()
        shots.take("billing")

    def test_the_token_leaves_the_address_bar_and_stays_for_the_tab(self, spa: Spa) -> None:
        page = spa.open("/enroll")
        expect(page.get_by_role("heading", level=1)).to_have_text("Enroll in per-group billing")
        assert "token" not in page.url
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Enroll in per-group billing")

    def test_an_enrolled_organizer_is_sent_from_home_to_billing(self, spa: Spa) -> None:
        spa.api.enrolled = True
        page = spa.open("/")
        expect(page).to_have_url(re.compile(r"/billing$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Billing")

    def test_checkout_for_an_enrolled_organizer_goes_to_billing(self, spa: Spa) -> None:
        page = spa.open("/enroll")
        expect(page.get_by_role("button", name="Continue to payment")).to_be_visible()
        spa.api.enrolled = True  # enrolled in another tab meanwhile: the API answers 409
        page.get_by_role("button", name="Continue to payment").click()
        expect(page).to_have_url(re.compile(r"/billing$"))


class TestBillingPage:
    def test_the_timeline_explains_the_quantity_and_pages(self, spa: Spa) -> None:
        spa.api.enrolled, spa.api.history = True, 25
        page = spa.open("/billing")
        shots = Screenshots(page, "fake-billing")
        first = page.locator(".timeline__entry").first
        expect(first).to_contain_text("Group berlin-hikers closed")
        expect(first).to_contain_text("→ 7 groups billed from the 1 Jun 2025 renewal")
        expect(page.locator(".timeline__entry")).to_have_count(20)
        shots.take("first-page")
        page.get_by_role("button", name="Load more").click()
        expect(page.locator(".timeline__entry")).to_have_count(26)
        expect(page.get_by_role("button", name="Load more")).to_have_count(0)
        shots.take("all-pages")

    def test_shows_invoices_renewal_and_estimate(self, spa: Spa) -> None:
        spa.api.enrolled = True
        page = spa.open("/billing")
        expect(page.locator("#subscription-heading + .facts")).to_contain_text("1 Jun 2025")
        row = page.locator("table.invoices tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("€40.00")
        expect(row).to_contain_text("Enrollment")

    def test_the_portal_button_opens_the_billing_portal(self, spa: Spa) -> None:
        spa.api.enrolled = True
        page = spa.open("/billing")
        page.get_by_role("button", name="Manage payment details and invoices").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Billing portal")

    def test_an_organizer_not_enrolled_sees_an_empty_state(self, spa: Spa) -> None:
        page = spa.open("/billing")
        expect(page.get_by_text("You're not enrolled yet")).to_be_visible()
        expect(page.get_by_text("Nothing has happened yet")).to_be_visible()

    def test_an_api_error_shows_its_detail_and_can_be_retried(self, spa: Spa) -> None:
        spa.api.enrolled, spa.api.fail_next_billing = True, 1
        page = spa.open("/billing")
        shots = Screenshots(page, "fake-error")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("The ledger's database is not reachable.")
        shots.take("error")
        alert.get_by_role("button", name="Try again").click()
        expect(page.get_by_text("Active", exact=True)).to_be_visible()

    def test_reads_on_a_phone_without_sideways_scrolling(self, spa: Spa) -> None:
        spa.api.enrolled, spa.api.history = True, 3
        page = spa.open("/billing", phone=True)
        expect(page.locator("table.invoices tbody tr")).to_have_count(1)
        expect(page.locator(".timeline__entry")).to_have_count(4)
        Screenshots(page, "fake-phone").take("billing-375px")
        assert no_horizontal_scroll(page)


class TestSignIn:
    def test_an_expired_token_sends_the_organizer_to_the_platform(self, spa: Spa) -> None:
        page = spa.open("/billing", ttl=timedelta(minutes=-5))
        expect(page.get_by_role("heading", level=1)).to_have_text("Platform sign-in")
        assert page.url == f"{spa.base}/_fake/sign-in"

    def test_a_401_from_the_api_sends_the_organizer_to_the_platform(self, spa: Spa) -> None:
        page = spa.browser.new_page()
        forged = organizer_token(
            "another-secret-that-is-long-enough", ORGANIZER, ttl=timedelta(hours=1)
        )
        page.goto(f"{spa.base}/billing#token={forged}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Platform sign-in")
        assert page.evaluate("() => sessionStorage.length") == 0

    def test_a_token_expiring_on_the_open_page_signs_out(self, spa: Spa) -> None:
        page = spa.open("/billing", ttl=timedelta(seconds=12))  # the SPA allows 5 s of skew
        expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Platform sign-in", timeout=10_000
        )


class TestKeyboard:
    def test_enrollment_works_from_the_keyboard_with_visible_focus(self, spa: Spa) -> None:
        page = spa.open("/enroll")
        expect(page.get_by_role("button", name="Continue to payment")).to_be_visible()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        button = page.get_by_role("button", name="Continue to payment")
        for _ in range(10):
            if button.evaluate("el => el === document.activeElement"):
                break
            page.keyboard.press("Tab")
        expect(button).to_be_focused()
        outline = button.evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline == "solid"
        Screenshots(page, "fake-keyboard").take("focused-button")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Fake checkout")

    def test_every_page_has_one_h1(self, spa: Spa) -> None:
        page = spa.open("/enroll")
        for path in ("/enroll", "/billing", "/nowhere"):
            page.goto(f"{spa.base}{path}")
            page.wait_for_selector("h1")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").count() == 1, path
        assert heading(page) == "Page not found"
