"""``ledger dev renew ORGANIZER_ID [--cycles N]``: an organizer's next renewal(s), now.

The double's clock (the subscription's test clock, else its global clock) moves the way
Stripe's time would pass, in three steps, and after each one the command waits until
the ledger has reacted (every webhook delivered and taken in, the worker caught up):

1. to just before the period ends: Stripe sends the upcoming-invoice notice and the
   ledger syncs the quantity it will bill;
2. past the period end: Stripe renews and creates the draft invoice, which the ledger
   records (and checks against the groups active at the period start);
3. past the draft's window (``automatically_finalizes_at``, which Stripe only fixes once
   the ``invoice.created`` delivery was acknowledged): Stripe finalises the invoice
   and charges it, and the ledger records the outcome.

Then it prints what was billed. Moving the global clock renews every subscription
without a test clock that is due by then (as Stripe's time would); see docs/dev-stack.md.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import stripe

from app.bootstrap import bootstrap
from app.entrypoints.cli.dev.double_install import double_installed
from app.entrypoints.cli.dev.errors import DevStackError
from app.entrypoints.cli.dev.lock import running_stack
from app.entrypoints.cli.dev.money import format_money
from app.entrypoints.cli.dev.observe import LedgerView
from app.settings import load_settings

LIVE = frozenset({"active", "trialing", "past_due"})
BEFORE_END_S = 60  # "just before the period ends": the notice is due, the renewal not yet


@dataclass
class DoubleClock:
    """The clock a subscription lives on: a test clock, or the double's global clock."""

    admin: httpx.Client
    client: stripe.StripeClient
    clock_id: str | None

    def now(self) -> int:
        if self.clock_id is not None:
            return int(self.client.v1.test_helpers.test_clocks.retrieve(self.clock_id).frozen_time)
        return int(self._admin("GET", "/_double/clock")["now"])

    def advance(self, to: int) -> None:
        if to <= self.now():
            return
        if self.clock_id is not None:
            self.client.v1.test_helpers.test_clocks.advance(
                self.clock_id, params={"frozen_time": to}
            )
        else:
            self._admin("POST", "/_double/clock", {"now": to})

    def delivered(self) -> bool:
        """Whether every webhook delivery is done (waits a little for them)."""
        return bool(self._admin("POST", "/_double/webhooks/flush", {"timeout": 2})["flushed"])

    def _admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.admin.request(method, path, json=body)
        answer.raise_for_status()
        return answer.json()


def run_renew(args: argparse.Namespace) -> int:
    """Renew the organizer ``args.cycles`` times; print each invoice billed."""
    if args.cycles < 1:
        msg = "--cycles must be at least 1"
        raise DevStackError(msg)
    if running_stack() is None:
        msg = "no dev stack runs on var/: start one with `make run` (or `ledger dev up`)"
        raise DevStackError(msg)
    settings = load_settings()
    base = settings.stripe_api_base
    if base is None or settings.stripe_api_key is None:
        msg = "the dev stack runs without the Stripe double: `ledger dev renew` needs it"
        raise DevStackError(msg)
    with double_installed():
        from stripe_double import sdk_client
    container = bootstrap(settings)
    try:
        with httpx.Client(base_url=base, timeout=60) as admin, sdk_client(base) as client:
            _check_double(admin, base)
            view = LedgerView(container, args.organizer_id, timeout_s=args.timeout)
            for cycle in range(1, args.cycles + 1):
                renewal = Renewal(view, admin, client, minimum=settings.minimum_quantity)
                print(renewal.run(cycle), flush=True)
    finally:
        container.close()
    return 0


def _check_double(admin: httpx.Client, base: str) -> None:
    try:
        admin.get("/_double/config").raise_for_status()
    except httpx.HTTPError:
        msg = f"STRIPE_API_BASE {base} is not the Stripe double (or it is not running)"
        raise DevStackError(msg) from None


class Renewal:
    """One renewal of one organizer, step by step."""

    def __init__(
        self,
        view: LedgerView,
        admin: httpx.Client,
        client: stripe.StripeClient,
        *,
        minimum: int,
    ) -> None:
        self.view = view
        self.admin = admin
        self.client = client
        self.minimum = minimum

    def run(self, cycle: int) -> str:
        """The three steps; returns the line saying what was billed."""
        subscription_id, item_id = self._live_subscription()
        sub = self.client.v1.subscriptions.retrieve(subscription_id)
        if sub.cancel_at_period_end:
            msg = f"{subscription_id} cancels at its period end: there is no renewal to run"
            raise DevStackError(msg)
        end = _period_end(sub.to_dict(), item_id)
        clock = DoubleClock(self.admin, self.client, sub.to_dict().get("test_clock"))
        who = self.view.organizer_id
        print(f"{who}: renewal {cycle}, period ending {_iso(end)}", flush=True)
        known = {i.id for i in self._invoices(subscription_id)}

        clock.advance(end - BEFORE_END_S)
        self._settle(clock, "the ledger to take in the upcoming-invoice notice")
        print(f"  {_iso(end - BEFORE_END_S)}  upcoming-invoice notice; {self._quantities()}")

        clock.advance(end + 1)
        draft = self.view.wait(
            lambda: next((i for i in self._invoices(subscription_id) if i.id not in known), None),
            f"Stripe to renew {subscription_id}",
        )
        self.view.wait(
            lambda: self.view.invoice(draft.id), f"the ledger to record draft {draft.id}"
        )
        self._settle(clock, f"the ledger to react to draft {draft.id}")
        print(f"  {_iso(end + 1)}  period ended; draft {draft.id}")

        draft = self.client.v1.invoices.retrieve(draft.id)
        if draft.status == "draft":
            due = draft.automatically_finalizes_at
            if due is None:
                msg = f"draft {draft.id} does not finalise by itself (auto_advance is off)"
                raise DevStackError(msg)
            clock.advance(max(int(due), clock.now()) + 1)
        final = self.client.v1.invoices.retrieve(draft.id)
        row = self.view.wait(
            lambda: _same_status(self.view.invoice(final.id), final.status),
            f"the ledger to record invoice {final.id} as {final.status}",
        )
        self._settle(clock, f"the ledger to take in invoice {final.id}")
        money = format_money(row.total, row.currency)
        if row.tax:
            parts = (format_money(row.subtotal, row.currency), format_money(row.tax, row.currency))
            money += f" ({parts[0]} + tax {parts[1]})"
        return (
            f"  billed: invoice {final.number} ({final.id}), quantity {row.quantity}, {money},"
            f" {final.status}; period {row.period_start:%Y-%m-%d} to {row.period_end:%Y-%m-%d}"
        )

    def _live_subscription(self) -> tuple[str, str]:
        snapshot = self.view.organizer().subscription_snapshot
        if snapshot is None or snapshot.status not in LIVE:
            status = "none" if snapshot is None else snapshot.status
            msg = f"{self.view.organizer_id} has no live subscription to renew (status {status})"
            raise DevStackError(msg)
        return snapshot.subscription_id, snapshot.item_id

    def _invoices(self, subscription_id: str) -> list[Any]:
        listed = self.client.v1.invoices.list(
            params={"subscription": subscription_id, "limit": 100}
        )
        return [i for i in listed.data if i.billing_reason == "subscription_cycle"]

    def _quantities(self) -> str:
        organizer = self.view.organizer()
        snapshot = organizer.subscription_snapshot
        billable = organizer.billable_quantity(minimum=self.minimum)
        billed = "?" if snapshot is None else snapshot.quantity
        return f"the ledger counts {billable} billable, Stripe bills {billed}"

    def _settle(self, clock: DoubleClock, what: str) -> None:
        """Wait until every delivery is done and the worker caught up, twice in a row: a
        sync sent between the two checks of one poll queues a webhook after the first."""
        streak = 0

        def settled() -> bool | None:
            nonlocal streak
            streak = streak + 1 if clock.delivered() and self.view.caught_up() else 0
            return True if streak >= 2 else None

        self.view.wait(settled, what)


def _period_end(sub: dict[str, Any], item_id: str) -> int:
    for item in sub["items"]["data"]:
        if item["id"] == item_id:
            return int(item["current_period_end"])
    msg = f"{sub['id']} has no item {item_id} any more: run `ledger reconcile`"
    raise DevStackError(msg)


def _same_status(row: Any, status: str | None) -> Any:
    return row if row is not None and row.status == status else None


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
