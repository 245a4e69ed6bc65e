"""``ledger smoke``'s steps against a deployed ledger (docs/smoke.md says what each mode
proves). Every step must hold for the run to pass; cleanup runs after a failure too, so
a failed run leaves no active subscription or group behind when it can help it.

1. ready: ``/readyz`` answers 200.
2. groups: the platform activates two groups (``/internal/group-changes``).
3. sign-in: the organizer's token opens its billing data, which shows those groups.
4. enroll: the enrollment route opens a Checkout Session (test mode) for two groups.
5. checkout: it is paid with a test card (browser: on the page; api: see stripe_side).
6. billing: the billing page shows the subscription active, billing two groups.
7. group-changes: a third group opens, the first closes; the billing page follows.
8. timeline: the timeline tells both changes and the enrollment.
9. cleanup: the subscription is canceled and the groups are closed; the ledger shows it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from app.settings import ConfigurationError, Settings
from app.smoke.ledger_api import LedgerApi
from app.smoke.report import SmokeReport, StepFailedError, eventually
from app.smoke.stripe_side import CheckoutSession, StripeSide

Mode = Literal["api", "browser"]
SESSION_ID = re.compile(r"cs_(test|live)_[A-Za-z0-9]+")
ENROLLED = "Enrolled in per-group billing"


def new_organizer_id() -> str:
    """A fresh smoke organizer per run: a failed run never leaves the next one a state
    to trip over (an open subscription, groups already active)."""
    return f"smoke-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class SmokeOptions:
    url: str
    mode: Mode = "api"
    organizer_id: str = field(default_factory=new_organizer_id)
    timeout_s: float = 60.0
    screenshots: Path | None = None


def _require_secret(value: Any, name: str) -> str:
    if value is None:
        msg = f"{name}: must be set for the smoke"
        raise ConfigurationError(msg)
    secret: str = value.get_secret_value()
    return secret


class SmokeRun:
    """The state one run builds up, step by step."""

    def __init__(self, options: SmokeOptions, settings: Settings) -> None:
        self.options = options
        self.settings = settings
        self.report = SmokeReport()
        org = options.organizer_id
        self.groups = [f"{org}-g1", f"{org}-g2", f"{org}-g3"]
        self.active: list[str] = []
        self.api = LedgerApi(
            options.url,
            organizer_id=org,
            token_secret=_require_secret(settings.token_secret, "LEDGER_TOKEN_SECRET"),
            service_token=_require_secret(settings.service_token, "LEDGER_SERVICE_TOKEN"),
        )
        self.stripe: StripeSide | None = None
        self.session: CheckoutSession | None = None
        self.checkout_url: str | None = None
        self.subscription_id: str | None = None
        self.browser: Any = None  # app.smoke.browser.BrowserFlow in browser mode

    # -- helpers -----------------------------------------------------------------------

    def wait(self, check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The billing data once ``check`` holds for it."""

        def seen() -> dict[str, Any] | None:
            billing = self.api.billing()
            if billing is None:
                raise StepFailedError("the organizer is unknown (404)")
            if check(billing):
                return billing
            status, ids = billing["enrollment_status"], billing["active_groups"]["ids"]
            quantity = (billing.get("subscription") or {}).get("billed_quantity")
            raise StepFailedError(f"status {status}, groups {ids}, billed quantity {quantity}")

        return eventually(seen, timeout=self.options.timeout_s, what=what)

    def change(self, action: str, group_ids: list[str]) -> None:
        self.api.change_groups(action, group_ids, run=self.options.organizer_id)
        if action == "activated":
            self.active += [g for g in group_ids if g not in self.active]
        else:
            self.active = [g for g in self.active if g not in group_ids]

    def shot(self, step: str) -> None:
        if self.browser is not None:
            self.browser.shot(step)

    # -- the steps -----------------------------------------------------------------------

    def ready(self) -> str:
        self.api.ready()
        return f"{self.api.base_url} is ready"

    def activate_groups(self) -> str:
        self.change("activated", self.groups[:2])
        return f"groups {', '.join(self.groups[:2])} activated for {self.options.organizer_id}"

    def sign_in(self) -> str:
        wanted = sorted(self.groups[:2])
        self.wait(
            lambda b: (
                sorted(b["active_groups"]["ids"]) == wanted
                and b["enrollment_status"] == "not_enrolled"
            ),
            "the organizer's two groups, not enrolled",
        )
        if self.browser is not None:
            self.browser.sign_in()
            self.shot("sign-in")
        return "the organizer's token opens its billing page (2 groups, not enrolled)"

    def enroll(self) -> str:
        if self.browser is not None:
            url = self.browser.open_checkout()
            self.shot("checkout-page")
        else:
            link = self.api.enroll()
            url = str(link["url"])
            if link.get("quantity") != 2:
                msg = f"the enrollment bills {link.get('quantity')} groups, not 2"
                raise StepFailedError(msg)
        self.checkout_url = url
        found = SESSION_ID.search(url)
        if found is None:
            msg = f"the Checkout URL names no session: {url}"
            raise StepFailedError(msg)
        if found[1] != "test":
            msg = "the ledger opened a live-mode Checkout Session: the smoke runs in test mode only"
            raise StepFailedError(msg)
        self.stripe = StripeSide.for_checkout(url, self.settings)
        self.session = self.stripe.checked_session(
            found[0], organizer_id=self.options.organizer_id, quantity=2
        )
        where = "the Stripe double" if self.stripe.double else "Stripe (test mode)"
        return f"Checkout Session {found[0]} on {where} for 2 groups"

    def checkout(self) -> str:
        if self.browser is not None:
            self.browser.pay()
            self.shot("enrolled")
            return "paid on the Checkout page with the test card"
        if self.stripe is None or self.session is None:
            raise StepFailedError("no Checkout Session to pay")
        self.subscription_id = self.stripe.pay_without_browser(
            self.session, organizer_id=self.options.organizer_id
        )
        return (
            f"subscription {self.subscription_id} paid with {self.session.customer_id}'s test card"
        )

    def billing(self) -> str:
        billing = self.wait(
            lambda b: (
                b["enrollment_status"] == "active"
                and (b.get("subscription") or {}).get("billed_quantity") == 2
            ),
            "an active subscription billing 2 groups",
        )
        self.subscription_id = billing["subscription"]["subscription_id"]
        if self.browser is not None:
            self.browser.billing_page_shows(status="Active")
            self.shot("billing")
        return f"subscription {self.subscription_id} active, 2 groups billed"

    def change_groups(self) -> str:
        first, second, third = self.groups
        self.change("activated", [third])
        self.change("deactivated", [first])
        self.wait(
            lambda b: sorted(b["active_groups"]["ids"]) == sorted([second, third]),
            f"groups {second} and {third} active",
        )
        return f"{third} opened and {first} closed"

    def timeline(self) -> str:
        first, _, third = self.groups
        wanted = [f"Group {third} opened", f"Group {first} closed", ENROLLED]

        def shown() -> list[str] | None:
            titles = [str(e["title"]) for e in self.api.timeline()]
            missing = [w for w in wanted if w not in titles]
            if missing:
                raise StepFailedError(f"missing {missing}; newest: {titles[:5]}")
            return titles

        eventually(shown, timeout=self.options.timeout_s, what="the timeline entries")
        if self.browser is not None:
            self.browser.billing_page_shows(*wanted, status="Active")
            self.shot("timeline")
        return "; ".join(wanted)

    def cleanup(self) -> str:
        done = []
        billing = self.api.billing()
        subscription = (billing or {}).get("subscription") or {}
        subscription_id = self.subscription_id or subscription.get("subscription_id")
        if subscription_id and subscription.get("status") != "canceled":
            if self.stripe is None:
                msg = f"subscription {subscription_id} is left: no Stripe to cancel it with"
                raise StepFailedError(msg)
            self.stripe.cancel(subscription_id)
            done.append(f"subscription {subscription_id} canceled")
        leftover = list(self.active)
        if leftover:
            self.change("deactivated", leftover)
            done.append(f"groups {', '.join(leftover)} closed")
        self.wait(
            lambda b: (
                b["active_groups"]["count"] == 0
                and (not subscription_id or b["enrollment_status"] == "canceled")
            ),
            "no active group" + (" and the subscription canceled" if subscription_id else ""),
        )
        return "; ".join(done) or "nothing to clean up"

    def close(self) -> None:
        self.api.close()
        if self.stripe is not None:
            self.stripe.close()


STEPS: list[tuple[str, Callable[[SmokeRun], str]]] = [
    ("ready", SmokeRun.ready),
    ("groups", SmokeRun.activate_groups),
    ("sign-in", SmokeRun.sign_in),
    ("enroll", SmokeRun.enroll),
    ("checkout", SmokeRun.checkout),
    ("billing", SmokeRun.billing),
    ("group-changes", SmokeRun.change_groups),
    ("timeline", SmokeRun.timeline),
]


def run_smoke(options: SmokeOptions, settings: Settings) -> SmokeReport:
    """Every step in order until one fails, then the cleanup (whenever something was
    created). Returns the report; nothing here raises for a step that did not hold."""
    run = SmokeRun(options, settings)
    try:
        if options.mode == "browser":
            from app.smoke.browser import BrowserFlow  # Playwright: only in browser mode

            flow = BrowserFlow(
                base_url=run.api.base_url,
                token=run.api.organizer_token,
                timeout_s=options.timeout_s,
                chromium=settings.smoke_chromium,
                screenshots=options.screenshots,
            )
            with flow:
                run.browser = flow
                _steps(run)
        else:
            _steps(run)
    finally:
        run.close()
    return run.report


def _steps(run: SmokeRun) -> None:
    for name, step in STEPS:
        if not run.report.run(name, partial(step, run)):
            run.shot(f"failed-{name}")
            break
    if run.active or run.checkout_url is not None:
        run.report.run("cleanup", run.cleanup)
    else:
        run.report.skip("cleanup", "nothing was created")
