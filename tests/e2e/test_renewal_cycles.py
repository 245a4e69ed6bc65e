"""Months of renewals, unattended, against a hostile Stripe double (the process-manager issue).

Real processes on PostgreSQL: `ledger serve`, `ledger worker` and the Stripe double
(`ledger dev stripe`), over loopback. 200 organizers subscribe on a test clock; the
platform churns their groups; the clock is advanced through three renewal cycles while
about 20% of the ledger's Stripe calls fail (429 with and without Stripe-Should-Retry,
lock timeouts, 500s, answers lost after Stripe applied the update), webhooks arrive
shuffled and duplicated, and the worker is killed (SIGKILL) and restarted twice. Then:

- every renewal invoice billed the organizer's active groups at the sync instant;
- no idempotency key was sent with different parameters, and none was applied twice;
- `ledger reconcile` reports no drift.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.ledger_stack import LedgerStack
from tests.support.postgres import fresh_schema
from tests.support.processes import (
    run_ledger,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ORGANIZERS = 200
CYCLES = 3
SERVICE_TOKEN = "renewal-cycles-service-token"
HOUR = 3600
QUANTITY_PATH = "^/v1/subscription_items/"
# About 20% of the ledger's quantity updates fail, in every way Stripe can fail them.
FAULTS: list[dict[str, Any]] = [
    {"status": 429, "error_code": "rate_limit", "should_retry": True, "probability": 0.05},
    {"status": 429, "error_code": "rate_limit", "probability": 0.04},
    {"status": 429, "error_code": "lock_timeout", "probability": 0.04},
    {"status": 500, "probability": 0.04},
    {"drop_connection": True, "after_processing": True, "probability": 0.03},
]


@dataclass
class Platform:
    """The test's model of the platform's groups, to check the ledger against."""

    rnd: random.Random = field(default_factory=lambda: random.Random(20261125))
    groups: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    changes: int = 0

    def billable(self, organizer: str) -> int:
        return max(len(self.groups[organizer]), 1)

    def churn(self, organizers: list[str]) -> list[dict[str, str]]:
        batch = []
        now = datetime.now(UTC) - timedelta(seconds=1)
        for organizer in organizers:
            for _ in range(self.rnd.randrange(0, 4)):
                group = f"{organizer}-g{self.rnd.randrange(8)}"
                active = group in self.groups[organizer]
                if active:
                    self.groups[organizer].discard(group)
                else:
                    self.groups[organizer].add(group)
                self.changes += 1
                now += timedelta(microseconds=1)  # strictly increasing: no ties to reason about
                batch.append(
                    {
                        "change_id": f"chg-{self.changes}",
                        "organizer_id": organizer,
                        "group_id": group,
                        "action": "deactivated" if active else "activated",
                        "occurred_at": now.isoformat(),
                    }
                )
        return batch


class Cycles:
    def __init__(self, stack: ExitStack, workdir: Path, url: str) -> None:
        self.workdir = workdir
        self.platform = Platform()
        self.organizers = [f"org-{i:03d}" for i in range(ORGANIZERS)]
        self.ledger = LedgerStack(stack, workdir, url, unit_amount=500)
        self.admin, self.stripe, self.env = self.ledger.admin, self.ledger.stripe, self.ledger.env
        self.expected: dict[tuple[str, int], int] = {}  # (subscription, period end) → quantity

    # -- set-up ------------------------------------------------------------------------

    def start(self) -> None:
        self.ledger.start(
            interval="month",
            config={
                "quantity_updates_per_hour": None,
                "webhooks": {"shuffle": True, "duplicate_probability": 0.3, "seed": 11},
            },
        )
        self.price = self.ledger.price

    def subscribe_everyone(self) -> None:
        self.now = int(datetime.now(UTC).timestamp())
        self.clock = self.stripe.v1.test_helpers.test_clocks.create(
            params={"frozen_time": self.now}
        ).id
        self.subscriptions: dict[str, dict[str, Any]] = {}
        for organizer in self.organizers:
            customer = self.stripe.v1.customers.create(
                params={"test_clock": self.clock, "metadata": {"organizer_id": organizer}}
            )
            subscription = self.stripe.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [{"price": self.price, "quantity": 1}],
                    "metadata": {"organizer_id": organizer},
                }
            )
            self.subscriptions[organizer] = subscription.to_dict()
        wait_for(
            lambda: (
                self.count(
                    "SELECT COUNT(*) AS n FROM rm_renewals WHERE subscription_id IS NOT NULL"
                )
                == ORGANIZERS
            ),
            timeout=120,
            what="every subscription to reach the ledger",
        )

    def count(self, sql: str) -> int:
        return self.ledger.count(sql)

    def period_end(self) -> int:
        organizer = self.organizers[0]
        found = self.stripe.v1.subscriptions.retrieve(self.subscriptions[organizer]["id"])
        return int(found["items"]["data"][0]["current_period_end"])

    def quantities(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for sub in self.stripe.v1.subscriptions.list(
            params={"limit": 100, "status": "all"}
        ).auto_paging_iter():
            found[str(sub["metadata"]["organizer_id"])] = int(sub["items"]["data"][0]["quantity"])
        return found

    # -- one renewal cycle -------------------------------------------------------------

    def churn(self) -> None:
        changes = self.platform.churn(self.organizers)
        for start in range(0, len(changes), 1000):
            self.ledger.group_changes(changes[start : start + 1000])

    def advance(self, to: int) -> None:
        self.stripe.v1.test_helpers.test_clocks.advance(self.clock, params={"frozen_time": to})

    def settle(self) -> None:
        """Every webhook delivered and translated, every read model caught up."""
        self.ledger.flush()
        wait_for(self.ledger.caught_up, timeout=120, what="the ledger to take in every delivery")

    def cycle(self, number: int) -> None:
        self.churn()
        end = self.period_end()
        wanted = {o: self.platform.billable(o) for o in self.organizers}
        for organizer, quantity in wanted.items():
            self.expected[(self.subscriptions[organizer]["id"], end)] = quantity
        self.advance(end - 3 * 86_400 + HOUR)  # invoice.upcoming for everyone: the sync instant
        if number < 2:
            wait_for(
                lambda: self.count("SELECT COUNT(*) AS n FROM rm_quantity_syncs") > 0,
                timeout=60,
                what="the first syncs of the cycle",
            )
            self.ledger.kill_worker()  # in the middle of sending
        wait_for(
            lambda: self.quantities() == wanted,
            timeout=240,
            what=f"cycle {number}: Stripe quantities to equal the active groups",
        )
        self.advance(end + 2 * HOUR)  # renewal: draft, an hour later finalized and paid


def test_three_renewal_cycles_bill_the_active_groups_exactly_once(
    tmp_path: Path, postgres_url: str
) -> None:
    with ExitStack() as stack:
        url = stack.enter_context(fresh_schema(postgres_url))
        cycles = Cycles(stack, tmp_path, url)
        cycles.start()
        cycles.subscribe_everyone()
        for rule in FAULTS:
            cycles.admin.post(
                "/_double/faults", json={"method": "POST", "path": QUANTITY_PATH, **rule}
            ).raise_for_status()
        for number in range(CYCLES):
            cycles.cycle(number)
        cycles.admin.delete("/_double/faults").raise_for_status()
        cycles.settle()
        requests = cycles.admin.get("/_double/requests").json()
        faults = cycles.admin.get("/_double/faults").json()
        invoices = [
            invoice
            for invoice in cycles.stripe.v1.invoices.list(params={"limit": 100}).auto_paging_iter()
            if invoice["billing_reason"] == "subscription_cycle"
        ]
        reconcile = run_ledger("reconcile", "--json", cwd=tmp_path, env=cycles.env, timeout=300)

    # Every renewal invoice billed the groups active at the sync instant.
    assert len(invoices) == ORGANIZERS * CYCLES
    for invoice in invoices:
        line = invoice["lines"]["data"][0]
        subscription = invoice["parent"]["subscription_details"]["subscription"]
        assert line["quantity"] == cycles.expected[(subscription, int(line["period"]["start"]))], (
            invoice["id"]
        )

    # No key with different parameters; no key applied twice.
    after_processing = {rule["id"] for rule in faults if rule.get("after_processing")}
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in requests:
        if request["path"].startswith("/v1/subscription_items/") and request["method"] == "POST":
            by_key[request["idempotency_key"]].append(request)
    assert by_key, "the ledger sent no quantity update"
    for key, sent in by_key.items():
        assert key, "a quantity update was sent without an Idempotency-Key"
        assert len({json.dumps(r["params"], sort_keys=True) for r in sent}) == 1, key
        applied = [
            r
            for r in sent
            if (r["status"] == 200 and not r["replayed"]) or r["fault"] in after_processing
        ]
        assert len(applied) <= 1, key
    assert {r["status"] for r in requests if r["fault"]} - {None}, "the faults never fired"

    # The ledger and Stripe agree.
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
