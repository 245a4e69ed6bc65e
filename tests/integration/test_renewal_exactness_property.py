"""Property (issue 10): every renewal charges billable_quantity(period start), whatever the
interleaving — group changes early, in the last minutes and late; Stripe's webhooks
shuffled, duplicated and delayed up to the draft's finalisation (or, with the worker down,
past it); the worker replaying its reactions and losing Stripe's answers; Stripe faults
(429s, 500s with and without Should-Retry, dropped connections before and after
processing).

Driven through the real process manager, translator and SDK against the Stripe double's
own renewal timeline (one double, reset per example). Checked on the double:

- when the ledger hears of the draft before Stripe finalises it, the renewal invoice's
  subtotal is unit price x billable_quantity(T) itself;
- when it hears only afterwards, the renewal invoice plus the one-off invoices minus the
  credit notes the ledger made for it come to exactly that;
- no idempotency key was ever sent with two parameter sets.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.bootstrap import bootstrap
from app.services.process.corrections import CorrectionSender
from app.services.process.manager import RenewalScheduler, SyncSender
from app.settings import load_settings
from domain.groups import GroupAction
from stripe_double import running_double
from tests.support.clock import SteppingClock
from tests.support.renewals import UNIT, RenewalStack, stack_on

GROUPS = [f"g{i}" for i in range(6)]
MINUTE = timedelta(minutes=1)
# When a group change reaches the ledger: well before, in the last 30 minutes before the
# period end, or after the draft exists (late: it still counts if it occurred before T).
ARRIVALS = ("early", "last_minutes", "late")
FAULT_PATHS = ("^/v1/invoiceitems", "^/v1/subscription_items/", "^/v1/invoices$", "^/v1/credit")
FAULTS: tuple[dict[str, Any], ...] = (
    {"status": 429, "error_code": "rate_limit"},
    {"status": 500, "should_retry": False},
    {"status": 500},
    {"status": 503, "should_retry": True},
    {"status": 500, "should_retry": False, "after_processing": True},
    {"drop_connection": True},
    {"drop_connection": True, "after_processing": True},
)


@dataclass(frozen=True)
class Change:
    group: str
    activate: bool
    minutes_before_end: int  # drawn occurrence: > 0 before the period end, < 0 after
    arrival: str
    change_id: str


changes = st.lists(
    st.builds(
        Change,
        group=st.sampled_from(GROUPS),
        activate=st.booleans(),
        minutes_before_end=st.integers(-30, 3 * 24 * 60),
        # Late changes are what the draft correction is for: draw them more often.
        arrival=st.sampled_from((*ARRIVALS, "late", "last_minutes")),
        change_id=st.uuids().map(str),
    ),
    min_size=1,
    max_size=10,
    unique_by=lambda c: c.change_id,
)
faults = st.lists(
    st.tuples(st.sampled_from(FAULT_PATHS), st.sampled_from(FAULTS), st.integers(1, 2)),
    min_size=1,
    max_size=4,
)


@dataclass(frozen=True)
class Scenario:
    initial: int  # groups (and the quantity Stripe bills) long before the renewal
    group_changes: list[Change]
    stripe_faults: list[tuple[str, dict[str, Any], int]]
    worker_down_past_finalisation: bool
    two_workers: bool  # a second sender races the first (same store, same Stripe)
    seed: int  # webhook order and duplicates, reaction replays


Applied = tuple[datetime, str, str, bool]  # (occurred_at, change id, group, activate)


def expected_quantity(applied: list[Applied], at: datetime) -> int:
    """The oracle: groups active at ``at`` by the changes' own times (the change id breaks
    ties), never below 1 — the rule, computed apart from the ledger."""
    active: set[str] = set()
    for occurred, _, group, activate in sorted(applied):
        if occurred <= at:
            (active.add if activate else active.discard)(group)
    return max(len(active), 1)


class Run:
    """One example: a renewal, its inputs in the drawn order, the worker as drawn."""

    def __init__(
        self, stack: RenewalStack, rng: random.Random, rival: RenewalStack | None = None
    ) -> None:
        self.stack = stack
        self.rng = rng
        self.rival = rival
        self.delivered: set[str] = set()
        self.applied: list[Applied] = []

    def change(self, change: Change) -> None:
        drawn = self.stack.period_end - timedelta(minutes=change.minutes_before_end)
        occurred = min(drawn, self.stack.clock.now)  # nothing arrives before it happens
        self.applied.append((occurred, change.change_id, change.group, change.activate))
        self.stack.container.ledger.change_group(
            "org-1",
            action=GroupAction.ACTIVATED if change.activate else GroupAction.DEACTIVATED,
            group_id=change.group,
            change_id=change.change_id,
            occurred_at=occurred,
        )

    def webhooks(self) -> None:
        """Every event not delivered yet, shuffled, some twice."""
        listed = self.stack.stripe.v1.events.list(params={"limit": 100})
        fresh = [e.to_dict() for e in listed.auto_paging_iter() if e.id not in self.delivered]
        batch = fresh + [e for e in fresh if self.rng.random() < 0.3]
        self.rng.shuffle(batch)
        for delivery in batch:
            self.delivered.add(delivery["id"])
            self.stack.deliver_event(delivery)

    def worker(self, passes: int = 6) -> None:
        """The worker's passes; now and then it replays its reactions (a crash before its
        position was saved), and with ``two_workers`` a second sender races the first;
        the ledger's clock moves on so that backoffs run out."""
        for _ in range(passes):
            if self.rng.random() < 0.2:
                with self.stack.container.database.transaction() as cursor:
                    cursor.execute(
                        "DELETE FROM read_model_tracking WHERE projection = 'process_manager'"
                    )
            if self.rival is None:
                self.stack.work(passes=1)
            else:
                self.stack.react()
                with ThreadPoolExecutor(max_workers=2) as pool:
                    both = [pool.submit(self.send, s) for s in (self.stack, self.rival)]
                    for done in both:
                        done.result()
                self.stack.react()
            self.stack.clock.advance(timedelta(seconds=40))

    @staticmethod
    def send(stack: RenewalStack) -> None:
        RenewalScheduler(stack.container.database, stack.reactor).run_once()
        stack.syncs.run_once()
        stack.corrections.run_once()


def billed_for_the_renewal(stack: RenewalStack) -> int:
    renewal = stack.renewal_invoice()
    charged = sum(int(i["subtotal"]) for i in stack.manual_invoices())
    credited = sum(int(n["subtotal"]) for n in stack.credit_notes(str(renewal["id"])))
    return int(renewal["subtotal"]) + charged - credited


@pytest.fixture(scope="module")
def double_url() -> Iterator[str]:
    with running_double(webhook_delivery=False) as double:
        yield double.base_url


@settings(
    max_examples=int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    scenario=st.builds(
        Scenario,
        initial=st.integers(1, 4),
        group_changes=changes,
        stripe_faults=faults,
        worker_down_past_finalisation=st.booleans(),
        seed=st.integers(0, 2**16),
    )
)
def test_every_renewal_charges_the_groups_active_at_its_instant(
    double_url: str, scenario: Scenario
) -> None:
    initial, group_changes = scenario.initial, scenario.group_changes
    worker_down_past_finalisation = scenario.worker_down_past_finalisation
    with tempfile.TemporaryDirectory() as folder:
        clock = SteppingClock()
        container = bootstrap(
            load_settings(database_url=f"sqlite:///{Path(folder) / 'l.db'}"), clock=clock
        )
        try:
            with stack_on(double_url, container, clock) as stack:
                rival = replace(
                    stack,
                    syncs=SyncSender(
                        container.database, container.ledger, stack.gateway, stack.reactor.policy
                    ),
                    corrections=CorrectionSender(
                        container.database, container.ledger, stack.gateway, stack.reactor.policy
                    ),
                )
                run = Run(
                    stack, random.Random(scenario.seed), rival if scenario.two_workers else None
                )
                stack.subscribe(quantity=initial)
                for i in range(initial):
                    run.change(Change(f"g{i}", True, 20 * 24 * 60, "early", f"initial-{i}"))
                for path, fault, count in scenario.stripe_faults:
                    stack.fault(method="POST", path=path, count=count, **fault)
                by_arrival = {a: [c for c in group_changes if c.arrival == a] for a in ARRIVALS}
                end = stack.period_end

                stack.advance(end - timedelta(hours=2))
                for change in by_arrival["early"]:
                    run.change(change)
                run.webhooks()
                run.worker()
                stack.advance(end - 45 * MINUTE)  # within the sync lead: scheduled check
                run.webhooks()
                run.worker()
                stack.advance(end - MINUTE)
                for change in by_arrival["last_minutes"]:
                    run.change(change)
                stack.advance(end + MINUTE)  # the draft exists
                if worker_down_past_finalisation:
                    stack.advance(end + 2 * timedelta(hours=1))  # finalised, charged
                for change in by_arrival["late"]:
                    run.change(change)
                run.webhooks()
                run.worker(passes=12)
                if not worker_down_past_finalisation:
                    stack.advance(end + 2 * timedelta(hours=1))
                run.webhooks()
                run.worker(passes=8)

                target = expected_quantity(run.applied, end) * UNIT
                renewal = stack.renewal_invoice()
                assert renewal["status"] in ("paid", "open")
                if worker_down_past_finalisation:
                    assert billed_for_the_renewal(stack) == target
                else:
                    assert int(renewal["subtotal"]) == target
                    assert stack.manual_invoices() == []
                assert stack.keys_with_several_parameter_sets() == []
                kinds = sorted({c["kind"] for c in stack.corrections_made()})
                event(f"corrections: {', '.join(kinds) or 'none'}")
                fired = sum(1 for r in stack.requests() if r["fault"])
                event(f"faults fired: {min(fired, 3)}")
                rival.syncs.close()
                rival.corrections.close()
        finally:
            container.close()


def test_the_oracle_counts_only_changes_up_to_the_instant() -> None:
    end = datetime(2026, 2, 1, tzinfo=UTC)
    applied: list[Applied] = [
        (end - 20 * MINUTE, "i0", "g0", True),
        (end - 20 * MINUTE, "i1", "g1", True),
        (end - 10 * MINUTE, "a", "g5", True),
        (end - 5 * MINUTE, "b", "g0", False),
        (end + 5 * MINUTE, "c", "g4", True),  # after the renewal: the next period's
        (end, "d", "g1", False),  # at the instant itself: counts
    ]
    assert expected_quantity(applied, end) == 1
    assert expected_quantity([], end) == 1
