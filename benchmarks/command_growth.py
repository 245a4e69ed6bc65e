"""How one more command's latency and the snapshot size grow with an organizer's history.

Issue 12, goal 1. For organizers of 100 / 1,000 / 10,000 / 30,000 events (the real
domain: ~70% group churn over 100 groups, about half active, monthly renewals with
their Stripe facts, as ``benchmarks/replay.py`` generates them), on a SQLite file and
on PostgreSQL, with snapshots as production takes them (every ``SNAPSHOT_INTERVAL``
versions), it measures through ``LedgerApplication``:

- one more group change (``ledger.change_group``: load, decide, save);
- one more Stripe fact (``ledger.update`` recording a new draft invoice);
- the latest snapshot's stored size in bytes.

The baseline is the same command on the 100-event organizer of the same run: rounds
alternate baseline and larger organizers, and the ratio reported is the median of the
rounds' p50 ratios. The load average is printed (other jobs share the machine).
Target (issue): p50 at 30,000 events <= 1.5x the 100-event p50; snapshot <= 64 KB.
The script reports, it does not assert.

    .venv/bin/python benchmarks/command_growth.py [--sizes 100,1000,10000,30000]
        [--rounds 5] [--samples 20] [--backends sqlite,postgres] [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make app/ and tests/support importable
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from statistics import median, quantiles  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from app.services.claims import Claims, claim_recorded  # noqa: E402
from app.services.ledger import LedgerApplication  # noqa: E402
from benchmarks.replay import (  # noqa: E402
    SNAPSHOT_INTERVAL,
    HistoryBuilder,
    container_for,
    fresh_schema,
)
from domain.billing import InvoiceFacts  # noqa: E402
from domain.groups import GroupAction  # noqa: E402
from domain.organizer import Organizer, organizer_uuid  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_SIZES = (100, 1_000, 10_000, 30_000)
GROUP_POOL = 100  # random toggles keep about half of them (~50) active
SAVE_EVENTS = 5_000  # events per save while generating (see replay.py)
P50_RATIO_TARGET = 1.5
SNAPSHOT_TARGET_BYTES = 64 * 1024
console = Console(stderr=True)


class GrowthHistory(HistoryBuilder):
    """``replay.py``'s history, over a pool of ``GROUP_POOL`` groups."""

    group_pool = GROUP_POOL


def generate(ledger: LedgerApplication, key: str, events: int, seed: int) -> None:
    """Build one organizer of exactly ``events`` events in memory and save it in chunks;
    then take the snapshot production would hold at that version."""
    builder = GrowthHistory(key, events, random.Random(seed))
    organizer = builder.organizer
    intervals = vars(ledger)["snapshotting_intervals"]
    vars(ledger)["snapshotting_intervals"] = {}  # one snapshot at the end, not every 100th
    try:
        while not builder.full:
            # As through the ledger: the Stripe facts' claims lent to the decisions and
            # saved with their events (what lets the state forget settled invoices).
            claims = Claims(ledger, organizer.id, verify=False)
            organizer.lend_claims(claims)
            try:
                builder.build(organizer.version + SAVE_EVENTS)
            finally:
                organizer.lend_claims(None)
            claim_recorded(organizer, claims, at=builder.at)
            ledger.save(organizer, *claims.new.values())
    finally:
        vars(ledger)["snapshotting_intervals"] = intervals
    ledger.take_snapshot(organizer_uuid(key), version=builder.organizer.version)


def snapshot_bytes(ledger: LedgerApplication, key: str) -> int:
    if ledger.snapshots is None:
        return 0
    stored = ledger.snapshots.recorder.select_events(organizer_uuid(key), desc=True, limit=1)
    return len(stored[0].state) if stored else 0


@dataclass
class Commands:
    """The two measured commands; each call records one new, distinct fact."""

    ledger: LedgerApplication
    serial: int = 0
    toggles: dict[str, int] = field(default_factory=dict)

    def group_change(self, key: str) -> None:
        """Toggle a group the generated history never touches: each change applies."""
        self.serial += 1
        self.toggles[key] = turn = self.toggles.get(key, 0) + 1
        self.ledger.change_group(
            key,
            action=GroupAction.ACTIVATED if turn % 2 else GroupAction.DEACTIVATED,
            group_id="g-bench",
            change_id=f"bench-{key}-{self.serial}",
            occurred_at=datetime.now(UTC),
        )

    def stripe_fact(self, key: str) -> None:
        self.serial += 1
        invoice = bench_invoice(f"in_bench_{key}_{self.serial}", f"sub_{key}")
        source = f"evt_bench_{key}_{self.serial}"
        self.ledger.update(key, lambda org, at: org.record_invoice(invoice, source=source, at=at))


def bench_invoice(invoice_id: str, subscription_id: str) -> InvoiceFacts:
    start = datetime.now(UTC)
    return InvoiceFacts(
        invoice_id=invoice_id,
        subscription_id=subscription_id,
        billing_reason="manual",
        period_start=start,
        period_end=start + timedelta(days=30),
        quantity=1,
        subtotal=500,
        tax=100,
        total=600,
        amount_due=600,
        amount_paid=0,
        currency="eur",
        status="draft",
    )


@dataclass
class Series:
    samples_ms: list[float] = field(default_factory=list)
    round_p50s: list[float] = field(default_factory=list)


def timed(command: Callable[[str], None], key: str, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        command(key)
        out.append((time.perf_counter() - started) * 1000)
    return out


def measure(
    ledger: LedgerApplication, sizes: list[int], rounds: int, samples: int
) -> dict[tuple[str, int], Series]:
    commands = Commands(ledger)
    kinds: dict[str, Callable[[str], None]] = {
        "group change": commands.group_change,
        "stripe fact": commands.stripe_fact,
    }
    series = {(kind, size): Series() for kind in kinds for size in sizes}
    for command in kinds.values():
        for size in sizes:
            timed(command, key_for(size), 3)  # warm-up (connections, caches)
    for _ in range(rounds):
        for kind, command in kinds.items():
            for size in sizes:  # the baseline (sizes[0]) first in every round
                got = timed(command, key_for(size), samples)
                series[kind, size].samples_ms += got
                series[kind, size].round_p50s.append(median(got))
    return series


def key_for(size: int) -> str:
    return f"growth-{size}"


def p95(values: list[float]) -> float:
    return quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def report(
    backend: str,
    sizes: list[int],
    series: dict[tuple[str, int], Series],
    snapshots: dict[int, int],
) -> None:
    table = Table(title=f"{backend}: one more command vs the history length")
    for column in ("events", "command", "p50 ms", "p95 ms", "x 100-event p50", "snapshot"):
        table.add_column(column, justify="right")
    base = sizes[0]
    for (kind, size), got in series.items():
        ratios = [p / b for p, b in zip(got.round_p50s, series[kind, base].round_p50s, strict=True)]
        ratio = median(ratios)
        verdict = "" if size == base else (" PASS" if ratio <= P50_RATIO_TARGET else " MISS")
        table.add_row(
            f"{size:,}",
            kind,
            f"{median(got.samples_ms):.2f}",
            f"{p95(got.samples_ms):.2f}",
            f"{ratio:.2f}{verdict}",
            f"{snapshots[size]:,} B",
        )
    console.print(table)
    worst = max(snapshots.values())
    verdict = "PASS" if worst <= SNAPSHOT_TARGET_BYTES else "MISS"
    console.print(f"largest snapshot {worst:,} B (target <= {SNAPSHOT_TARGET_BYTES:,}): {verdict}")


@contextmanager
def store_url(backend: str, server_url: str) -> Iterator[str]:
    if backend == "postgres":
        with fresh_schema(server_url, keep=False) as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'ledger.db'}"


def run(backend: str, args: argparse.Namespace) -> None:
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with store_url(backend, args.database_url) as url, container_for(url) as container:
        ledger = container.ledger
        for size in sizes:
            started = time.perf_counter()
            generate(ledger, key_for(size), size, seed=size)
            console.print(f"  {backend}: {size:,} events in {time.perf_counter() - started:.1f} s")
        snapshots = {size: snapshot_bytes(ledger, key_for(size)) for size in sizes}
        console.print(f"  load average before measuring: {os.getloadavg()}")
        series = measure(ledger, sizes, args.rounds, args.samples)
        console.print(f"  load average after measuring: {os.getloadavg()}")
        report(backend, sizes, series, snapshots)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=20, help="commands per size per round")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    console.print(
        f"snapshot interval {SNAPSHOT_INTERVAL}; {Organizer.__name__} class_version "
        f"{Organizer.class_version}; load average {os.getloadavg()}"
    )
    for backend in args.backends.split(","):
        run(backend, args)


if __name__ == "__main__":
    main()
