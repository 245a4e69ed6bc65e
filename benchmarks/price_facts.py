"""What recording subscription items' prices (issue 13) costs the inbox, beside a baseline.

Each round builds two fresh embedded (SQLite) stores and puts the same ``--events``
``customer.subscription.updated`` deliveries (one organizer each, named by the
subscription's ``metadata.organizer_id``, all on one price) in both inboxes; then it drains
one with the worker's ``InboxProcessor`` (records the item's price when it changed: one
price-stream read per row) and the other with the same processor with the prices
stripped from each translation (the baseline: what the inbox did before issue 13).
Rounds alternate which runs first. It prints rows/s for both, the ratio, their medians
and the load average beside each round. It asserts nothing.

    .venv/bin/python benchmarks/price_facts.py [--events 300] [--rounds 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make app/ and tests/support importable
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from statistics import median  # noqa: E402
from typing import Any  # noqa: E402

from adapters.persistence.inbox import StripeInbox  # noqa: E402
from adapters.stripe.translate import Translation  # noqa: E402
from app.bootstrap import bootstrap  # noqa: E402
from app.services.intake.stripe_inbox import InboxProcessor  # noqa: E402
from app.settings import load_settings  # noqa: E402
from tests.support.inbox import deliver  # noqa: E402
from tests.support.stripe_payloads import T0, subscription_event  # noqa: E402


class WithoutPrices(InboxProcessor):
    """The inbox as before issue 13: translations carry no prices."""

    def _translate(self, event: Any) -> Translation:
        return replace(super()._translate(event), prices=())


def events(count: int) -> list[dict[str, Any]]:
    found = []
    for i in range(count):
        event = subscription_event(
            "basil",
            event_id=f"evt_b{i}",
            created=T0 + i,
            subscription_id=f"sub_b{i}",
            item_id=f"si_b{i}",
            customer=f"cus_b{i}",
        )
        event["data"]["object"]["metadata"] = {"organizer_id": f"org-b{i}"}
        found.append(event)
    return found


def drain(processor_class: type[InboxProcessor], deliveries: list[dict[str, Any]]) -> float:
    """Rows per second to drain ``deliveries`` from a fresh store's inbox."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'ledger.sqlite3'}"
        container = bootstrap(load_settings(database_url=url))
        try:
            inbox = StripeInbox(container.database)
            for event in deliveries:
                deliver(inbox, event)
            processor = processor_class(container.ledger, inbox)
            started = time.perf_counter()
            while processor.process_pending():
                pass
            elapsed = time.perf_counter() - started
        finally:
            container.close()
    return len(deliveries) / elapsed


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    deliveries = events(args.events)
    ratios, news, bases = [], [], []
    for n in range(args.rounds):
        if n % 2 == 0:
            new, base = drain(InboxProcessor, deliveries), drain(WithoutPrices, deliveries)
        else:
            base, new = drain(WithoutPrices, deliveries), drain(InboxProcessor, deliveries)
        news.append(new)
        bases.append(base)
        ratios.append(new / base)
        print(
            f"round {n + 1}: with prices {new:7.1f} rows/s, baseline {base:7.1f} rows/s,"
            f" ratio {new / base:.2f} (load {loadavg()})"
        )
    print(
        f"median: with prices {median(news):.1f} rows/s, baseline {median(bases):.1f} rows/s,"
        f" ratio {median(ratios):.2f} (load {loadavg()})"
    )


if __name__ == "__main__":
    main()
