"""Every renewal charges the groups active at the renewal instant, whatever the timing
(issue 10), with real processes: `ledger serve`, `ledger worker` and the Stripe double on
PostgreSQL.

Each scenario renews a few organizers on its own test clock (a daily price, so the period
end T sits a few minutes ahead of real time: the platform's group changes, dated by real
time, can fall in the last half hour before T, and the ledger's own clock sees T ahead).
The double finalizes a draft an hour of clock time after the ledger's server acknowledged
its `invoice.created`, as Stripe does. Then, for every renewal, what was billed for the
period starting at T — the renewal invoice, plus any one-off invoice, minus any credit
note the ledger made for it — equals the unit price x billable_quantity(T).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.ledger_stack import LedgerStack
from tests.support.postgres import fresh_schema
from tests.support.processes import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

UNIT = 700
HOUR = 3600
DAY = 86_400


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[LedgerStack]:
    """One ledger for the module; each scenario has its own clock and organizers."""
    with ExitStack() as stack:
        url = stack.enter_context(fresh_schema(postgres_url))
        built = LedgerStack(stack, tmp_path_factory.mktemp("timing"), url, unit_amount=UNIT)
        built.start(interval="day")
        yield built


@dataclass
class Renewals:
    """A scenario: organizers on one test clock, and the platform's record of their groups."""

    ledger: LedgerStack
    name: str
    organizers: list[str]
    changes: dict[str, list[tuple[datetime, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    customers: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)
    sent: int = 0
    # The renewal instant: 20 minutes ahead of real time when the scenario starts.
    T: int = field(default_factory=lambda: int(datetime.now(UTC).timestamp()) + 20 * 60)

    def subscribe(self) -> None:
        """Every organizer subscribes at quantity 1 on the scenario's clock: a day before
        T, so the period ends at T."""
        start = self.T - DAY
        stripe = self.ledger.stripe
        self.clock = stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": start}).id
        for organizer in self.organizers:
            customer = stripe.v1.customers.create(
                params={
                    "test_clock": self.clock,
                    "metadata": {"organizer_id": organizer},
                    "payment_method": "pm_card_visa",
                    "invoice_settings": {"default_payment_method": "pm_card_visa"},
                }
            )
            sub = stripe.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [{"price": self.ledger.price, "quantity": 1}],
                    "metadata": {"organizer_id": organizer},
                }
            )
            assert sub["items"]["data"][0]["current_period_end"] == self.T
            self.customers[organizer] = str(customer.id)
            self.subscriptions[organizer] = str(sub.id)
        known = ", ".join(f"'{s}'" for s in self.subscriptions.values())
        wait_for(
            lambda: (
                self.ledger.count(
                    f"SELECT COUNT(*) AS n FROM rm_renewals WHERE subscription_id IN ({known})"
                )
                == len(self.organizers)
            ),
            timeout=120,
            what="every subscription to reach the ledger",
        )

    def at(self, seconds_before_t: int) -> datetime:
        return datetime.fromtimestamp(self.T - seconds_before_t, tz=UTC)

    def change(self, organizer: str, action: str, groups: range, *, at: datetime) -> None:
        """The platform reports `action` for `groups` of `organizer`, dated `at`."""
        batch = []
        for number in groups:
            self.sent += 1
            group = f"{self.name}-{organizer}-g{number}"
            occurred = at + timedelta(microseconds=self.sent)  # no ties to reason about
            self.changes[organizer].append((occurred, group, action))
            batch.append(
                {
                    "change_id": f"{self.name}-chg-{self.sent}",
                    "organizer_id": organizer,
                    "group_id": group,
                    "action": action,
                    "occurred_at": occurred.isoformat(),
                }
            )
        self.ledger.group_changes(batch)

    def billable(self, organizer: str) -> int:
        """Groups active at T by the platform's own times, never below the minimum (1)."""
        active: set[str] = set()
        renewal = datetime.fromtimestamp(self.T, tz=UTC)
        for occurred, group, action in sorted(self.changes[organizer]):
            if occurred < renewal:
                (active.add if action == "activated" else active.discard)(group)
        return max(len(active), 1)

    def advance(self, *, to_after_t: int) -> None:
        self.ledger.stripe.v1.test_helpers.test_clocks.advance(
            self.clock, params={"frozen_time": self.T + to_after_t}
        )

    def quantities(self) -> dict[str, int]:
        found = {}
        for organizer, sub_id in self.subscriptions.items():
            sub = self.ledger.stripe.v1.subscriptions.retrieve(sub_id)
            found[organizer] = int(sub["items"]["data"][0]["quantity"])
        return found

    def renewal(self, organizer: str) -> dict[str, Any]:
        listed = self.ledger.stripe.v1.invoices.list(
            params={"subscription": self.subscriptions[organizer], "limit": 100}
        )
        cycle = [i for i in listed.data if i["billing_reason"] == "subscription_cycle"]
        assert len(cycle) == 1, [i["id"] for i in cycle]
        found: dict[str, Any] = cycle[0].to_dict()
        return found

    def corrected_lines(self, organizer: str) -> int:
        """Invoice-item lines (the ledger's corrections) on the organizer's renewal."""
        lines = self.renewal(organizer)["lines"]["data"]
        return sum(1 for line in lines if line["parent"]["type"] == "invoice_item_details")

    def billed(self, organizer: str) -> tuple[int, dict[str, Any], list[Any], list[Any]]:
        """What was billed for the period starting at T: (amount, renewal, one-offs, notes)."""
        stripe = self.ledger.stripe
        renewal = self.renewal(organizer)
        one_offs = [
            i
            for i in stripe.v1.invoices.list(
                params={"customer": self.customers[organizer], "limit": 100}
            ).data
            if i["billing_reason"] == "manual" and i["status"] != "void"
        ]
        notes = stripe.v1.credit_notes.list(params={"invoice": renewal["id"]}).data
        amount = renewal["subtotal"] + sum(i["subtotal"] for i in one_offs)
        amount -= sum(n["subtotal"] for n in notes)
        return amount, renewal, one_offs, notes

    def assert_every_renewal_right(self, *, corrected_on_the_draft: bool) -> None:
        wrong = {}
        for organizer in self.organizers:
            amount, renewal, one_offs, notes = self.billed(organizer)
            expected = UNIT * self.billable(organizer)
            if amount != expected or renewal["status"] != "paid":
                wrong[organizer] = (amount, expected, renewal["status"])
            if corrected_on_the_draft:
                assert (one_offs, notes) == ([], []), organizer
        assert wrong == {}, f"{len(wrong)} of {len(self.organizers)} renewals wrong: {wrong}"
        assert self.ledger.keys_with_several_parameter_sets() == []


def scenario(ledger: LedgerStack, name: str, count: int = 4) -> Renewals:
    ledger.start_worker()
    return Renewals(ledger, name, [f"{name}-org-{i}" for i in range(count)])


def subscribed_with_groups(renewals: Renewals, groups: int) -> None:
    """Every organizer has `groups` groups (since T - 3 h) before it subscribes; the
    ledger's scheduled check then syncs them ahead of the renewal."""
    for organizer in renewals.organizers:
        renewals.change(organizer, "activated", range(groups), at=renewals.at(3 * HOUR))
    renewals.subscribe()
    renewals.ledger.settle()
    wait_for(
        lambda: set(renewals.quantities().values()) == {groups},
        timeout=60,
        what="the scheduled sync ahead of the renewal",
    )


def test_a_clock_advanced_straight_past_the_period_end(ledger: LedgerStack) -> None:
    # The ledger's scheduled check ran before any group existed: nothing to sync. The
    # clock then jumps past T in one advance, so the draft exists before any sync.
    renewals = scenario(ledger, "jump")
    renewals.subscribe()
    ledger.settle()
    for number, organizer in enumerate(renewals.organizers):
        renewals.change(organizer, "activated", range(number + 2), at=renewals.at(3 * HOUR))
    ledger.settle()
    assert set(renewals.quantities().values()) == {1}

    renewals.advance(to_after_t=60)
    ledger.settle()
    renewals.advance(to_after_t=3 * HOUR)
    ledger.settle()

    renewals.assert_every_renewal_right(corrected_on_the_draft=True)
    assert all(renewals.corrected_lines(o) == 1 for o in renewals.organizers)
    # The correction also set the quantity for the next period.
    assert renewals.quantities() == {o: renewals.billable(o) for o in renewals.organizers}


def test_group_changes_in_the_last_30_minutes(ledger: LedgerStack) -> None:
    renewals = scenario(ledger, "late")
    subscribed_with_groups(renewals, 3)
    renewals.advance(to_after_t=-45 * 60)

    # Within the last half hour (T is ~20 minutes ahead of now): more for some, fewer for
    # others, and one organizer adds and removes.
    late = renewals.at(25 * 60)
    first, second, third, fourth = renewals.organizers
    renewals.change(first, "activated", range(3, 5), at=late)
    renewals.change(second, "deactivated", range(2), at=late)
    renewals.change(third, "activated", range(3, 4), at=late)
    renewals.change(third, "deactivated", range(1), at=late)
    renewals.change(fourth, "deactivated", range(3), at=late)
    ledger.settle()
    renewals.advance(to_after_t=60)
    ledger.settle()
    renewals.advance(to_after_t=3 * HOUR)
    ledger.settle()

    renewals.assert_every_renewal_right(corrected_on_the_draft=True)
    # The third organizer added one group and removed one: its draft was right already.
    assert [renewals.corrected_lines(o) for o in renewals.organizers] == [1, 1, 0, 1]


def test_the_worker_down_for_the_last_hour_back_inside_the_draft_window(
    ledger: LedgerStack,
) -> None:
    renewals = scenario(ledger, "down")
    subscribed_with_groups(renewals, 2)
    renewals.advance(to_after_t=-HOUR)
    ledger.stop_worker()

    for number, organizer in enumerate(renewals.organizers):
        renewals.change(organizer, "activated", range(2, 3 + number), at=renewals.at(30 * 60))
    renewals.advance(to_after_t=10 * 60)
    ledger.flush()  # the server acknowledged invoice.created: the hour runs
    drafts = [renewals.renewal(o) for o in renewals.organizers]
    assert {d["status"] for d in drafts} == {"draft"}
    ledger.start_worker()
    ledger.settle()
    renewals.advance(to_after_t=3 * HOUR)
    ledger.settle()

    renewals.assert_every_renewal_right(corrected_on_the_draft=True)
    assert all(renewals.corrected_lines(o) == 1 for o in renewals.organizers)


def test_the_worker_down_until_after_finalisation_invoices_the_difference(
    ledger: LedgerStack,
) -> None:
    renewals = scenario(ledger, "missed")
    subscribed_with_groups(renewals, 3)
    ledger.stop_worker()

    first, second, third, fourth = renewals.organizers
    late = renewals.at(25 * 60)
    renewals.change(first, "activated", range(3, 5), at=late)  # 5: charge 2 more
    renewals.change(second, "deactivated", range(2), at=late)  # 1: credit 2
    renewals.change(third, "activated", range(3, 4), at=late)  # 4: charge 1 more
    renewals.change(fourth, "deactivated", range(1), at=late)  # 2: credit 1
    renewals.advance(to_after_t=10 * 60)
    ledger.flush()
    renewals.advance(to_after_t=3 * HOUR)  # finalized and paid at 3 groups each
    assert {renewals.renewal(o)["subtotal"] for o in renewals.organizers} == {3 * UNIT}
    ledger.start_worker()
    ledger.settle()
    renewals.advance(to_after_t=6 * HOUR)  # the one-off invoices' own draft window
    ledger.settle()

    renewals.assert_every_renewal_right(corrected_on_the_draft=False)
    for organizer in (first, third):
        _, _, one_offs, _ = renewals.billed(organizer)
        assert [i["status"] for i in one_offs] == ["paid"], organizer
    for organizer in (second, fourth):
        _, _, _, notes = renewals.billed(organizer)
        assert len(notes) == 1, organizer
