"""Browser mode: the organizer's own path through the SPA and the hosted Checkout page,
in headless Chromium driven by Playwright (``pip install 'renewal-ledger[smoke]'``).

The Checkout page is Stripe's (test mode: the test card 4242 4242 4242 4242) or the
project's double's, which has the same field ids (stripe-double/stripe_double/checkout_card.py);
the script fills whichever card fields the page shows, then submits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

# Headless in a container: as root (no sandbox), with a small /dev/shm, without a GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"]
TEST_CARD = "4242 4242 4242 4242"
PAY_BUTTONS = "[data-testid='hosted-payment-submit-button'], .SubmitButton, #pay"
CARD_ACCORDION = "[data-testid='card-accordion-item-button']"


def _card_fields() -> list[tuple[str, str]]:
    expiry = f"12 / {(datetime.now(UTC).year + 3) % 100:02d}"
    return [
        ("#email", "ledger-smoke@example.com"),
        ("#cardNumber", TEST_CARD),
        ("#cardExpiry", expiry),
        ("#cardCvc", "123"),
        ("#billingName", "Ledger Smoke"),
        ("#billingPostalCode", "10115"),
    ]


@dataclass
class BrowserFlow:
    """One Chromium page for one smoke run (use as a context manager)."""

    base_url: str
    token: str
    timeout_s: float
    chromium: str | None = None
    screenshots: Path | None = None
    _playwright: Playwright | None = field(default=None, init=False)
    _browser: Browser | None = field(default=None, init=False)
    _page: Page | None = field(default=None, init=False)
    _shots: int = field(default=0, init=False)

    def __enter__(self) -> BrowserFlow:
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.chromium, args=CHROMIUM_ARGS, headless=True
        )
        self._page = self._browser.new_page(locale="en-GB", viewport={"width": 1100, "height": 900})
        self._page.set_default_timeout(self.timeout_s * 1000)
        expect.set_options(timeout=self.timeout_s * 1000)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    @property
    def page(self) -> Page:
        if self._page is None:
            msg = "the browser is not started"
            raise RuntimeError(msg)
        return self._page

    def shot(self, step: str) -> None:
        """A full-page screenshot (``--screenshots DIR``), numbered in the order taken."""
        if self.screenshots is None or self._page is None:
            return
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self._shots += 1
        path = self.screenshots / f"{self._shots:02d}-{step}.png"
        self._page.screenshot(path=str(path), full_page=True)

    def sign_in(self) -> str:
        """The platform's sign-in link; a new organizer lands on the enrollment page."""
        self.page.goto(f"{self.base_url}/#token={self.token}")
        expect(self.page).to_have_url(re.compile(r"/enroll$"))
        expect(self.page.get_by_role("button", name="Continue to payment")).to_be_enabled()
        return self.page.url

    def open_checkout(self) -> str:
        """Continue to payment; returns the Checkout page's URL."""
        self.page.get_by_role("button", name="Continue to payment").click()
        self.page.wait_for_url(lambda url: not url.startswith(self.base_url))
        return self.page.url

    def pay(self) -> str:
        """Fill the test card where the page asks for one, pay, and wait to be back."""
        page = self.page
        page.locator(f"#cardNumber, {CARD_ACCORDION}, {PAY_BUTTONS}").first.wait_for()
        accordion = page.locator(CARD_ACCORDION)
        if accordion.count() and accordion.first.is_visible():
            accordion.first.click()
        for selector, value in _card_fields():
            found = page.locator(selector)
            if found.count() and found.first.is_visible() and found.first.is_editable():
                found.first.fill(value)
        page.locator(PAY_BUTTONS).first.click()
        page.wait_for_url(lambda url: url.startswith(f"{self.base_url}/enroll/return"))
        expect(page.get_by_role("heading", level=1)).to_have_text("You're enrolled")
        return page.url

    def billing_page_shows(self, *texts: str, status: str) -> None:
        """The billing page: the status badge, and ``texts`` in its timeline."""
        self.page.goto(f"{self.base_url}/billing")
        expect(self.page.locator(".badge")).to_have_text(status)
        for text in texts:
            expect(self.page.locator(".timeline")).to_contain_text(text)
