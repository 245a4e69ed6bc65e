"""End-to-end worker throughput beside the ingest rate of the same run, on PostgreSQL.

Starts ``ledger serve`` and ``ledger worker`` on a fresh schema, then POSTs ``--deliveries``
signed, realistic Stripe deliveries (tests/support/stripe_payloads: one
``checkout.session.completed`` per organizer, then ``customer.subscription.updated`` and
``invoice.paid`` in turn) for ``--organizers`` organizers through ``/webhooks/stripe``,
``--concurrency`` in flight. It prints:

- ingest: deliveries / the time from the first POST to the last 200;
- apply: deliveries / the time from the first POST until the inbox has no pending row and
  every read model (``app.metrics.FOLLOWERS``) has caught up with the event log;
- drained: deliveries / the time until no inbox row is pending (the inbox alone);
- the ratio apply / ingest (issue 12: ≥ 0.5), per round and its median over ``--rounds``
  rounds (each on its own organizers), with the load average after each round.

The worker runs from the start, as on renewal day, so the two compete for the same CPUs.
The script reports PASS/MISS, it does not assert; it exits 1 if a request was not
answered 200 or a row was not processed.

    .venv/bin/python benchmarks/worker_throughput.py [--deliveries 2000] [--organizers 200]
        [--rounds 3] [--concurrency 32] [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make app/ and tests/support importable
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from statistics import median  # noqa: E402

import httpx  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from adapters.persistence.inbox import StripeInbox  # noqa: E402
from app.bootstrap import Container, bootstrap  # noqa: E402
from app.metrics import FOLLOWERS  # noqa: E402
from app.settings import load_settings  # noqa: E402
from benchmarks.webhook_ingest import fresh_schema, migrate, server  # noqa: E402
from projections.view import view_for  # noqa: E402
from tests.support.processes import LEDGER, ledger_env  # noqa: E402
from tests.support.stripe_payloads import (  # noqa: E402
    T0,
    checkout_event,
    invoice_event,
    subscription_event,
)
from tests.support.webhooks import SECRET, signed  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RATIO_TARGET = 0.5
POLL_S = 0.05
TIMEOUT_S = 900.0
Prepared = tuple[bytes, dict[str, str]]
console = Console()
if not console.is_terminal:
    console.width = 160


@dataclass(frozen=True)
class Round:
    deliveries: int
    ingest_s: float  # first POST to last answer
    applied_s: float  # first POST to drained and caught up
    non_200: int
    load: float
    drained_s: float  # first POST to no pending inbox row (read models may still follow)

    @property
    def ingest_rate(self) -> float:
        return self.deliveries / self.ingest_s

    @property
    def apply_rate(self) -> float:
        return self.deliveries / self.applied_s

    @property
    def drain_rate(self) -> float:
        return self.deliveries / self.drained_s

    @property
    def ratio(self) -> float:
        return self.apply_rate / self.ingest_rate


def deliveries(tag: str, count: int, organizers: int) -> list[Prepared]:
    """``count`` signed deliveries spread over ``organizers`` organizers, interleaved (as
    Stripe sends them on renewal day): each organizer's checkout first, then its updates
    and invoices with rising ``created`` and quantities."""
    events = []
    for k in range(organizers):
        events.append(
            checkout_event(
                "basil",
                event_id=f"evt_{tag}co{k:05d}",
                client_reference_id=f"org-{tag}{k}",
                customer=f"cus_{tag}{k:05d}",
                subscription=f"sub_{tag}{k:05d}",
            )
        )
    n = 0
    while len(events) < count:
        k, step = n % organizers, n // organizers
        n += 1
        customer, subscription = f"cus_{tag}{k:05d}", f"sub_{tag}{k:05d}"
        event_id, created = f"evt_{tag}{n:07d}", T0 + 60 * (step + 1)
        if step % 2 == 0:
            event = subscription_event(
                "basil",
                event_id=event_id,
                created=created,
                subscription_id=subscription,
                item_id=f"si_{tag}{k:05d}",
                customer=customer,
                quantity=2 + step,
            )
        else:
            event = invoice_event(
                "basil",
                event_id=event_id,
                created=created,
                invoice_id=f"in_{tag}{k:05d}x{step}",
                subscription_id=subscription,
                customer=customer,
                quantity=2 + step,
            )
        events.append(event)
    return [signed(event) for event in events[:count]]


async def post_all(url: str, prepared: list[Prepared], concurrency: int) -> tuple[int, float]:
    """POST every delivery, ``concurrency`` in flight; (non-200 count, wall seconds)."""
    queue = list(reversed(prepared))
    failures = 0
    started = time.perf_counter()

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while queue:
            body, headers = queue.pop()
            response = await client.post(url, content=body, headers=headers)
            failures += response.status_code != 200

    clients = [httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=60)]
    clients += [
        httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=60)
        for _ in range(concurrency - 1)
    ]
    try:
        await asyncio.gather(*(sender(client) for client in clients))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return failures, time.perf_counter() - started


def drained(container: Container) -> bool:
    """No pending inbox row."""
    return not StripeInbox(container.database).counts().get("pending", 0)


def caught_up(container: Container) -> bool:
    """No pending inbox row and every read model at the end of the event log."""
    if not drained(container):
        return False
    end = container.ledger.recorder.max_notification_id() or 0
    return all(
        (view_for(container.database, name, ()).max_tracking_id() or 0) >= end for name in FOLLOWERS
    )


def one_round(
    container: Container, url: str, tag: str, args: argparse.Namespace
) -> tuple[Round, int]:
    prepared = deliveries(tag, args.deliveries, args.organizers)
    started = time.perf_counter()
    failures, ingest_s = asyncio.run(post_all(url, prepared, args.concurrency))
    drained_s: float | None = None
    while not caught_up(container):
        if drained_s is None and drained(container):
            drained_s = time.perf_counter() - started
        if time.perf_counter() - started > TIMEOUT_S:
            msg = f"not caught up after {TIMEOUT_S:g} s"
            raise RuntimeError(msg)
        time.sleep(POLL_S)
    applied_s = time.perf_counter() - started
    drained_s = applied_s if drained_s is None else drained_s
    bad = sum(
        n for status, n in StripeInbox(container.database).counts().items() if status != "processed"
    )
    load = os.getloadavg()[0]
    return Round(len(prepared), ingest_s, applied_s, failures, load, drained_s), bad


def benchmark(args: argparse.Namespace, logs: Path) -> tuple[list[Round], int]:
    with fresh_schema(args.database_url) as (schema, url), ExitStack() as stack:
        env = {
            "LEDGER_DATABASE_URL": url,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "LEDGER_LOG_LEVEL": "warning",
        }
        console.print(f"schema {schema}: {migrate(env)}")
        base, _ = stack.enter_context(server([*LEDGER, "serve"], env, logs / "serve.log"))
        stack.enter_context(worker(env, logs / "worker.log"))
        container = bootstrap(load_settings(database_url=url), embedded_migrate=False)
        rounds, bad = [], 0
        for number in range(args.rounds):
            result, bad = one_round(container, base + "/webhooks/stripe", f"r{number}", args)
            rounds.append(result)
            console.print(
                f"round {number + 1}: ingest {result.ingest_rate:.0f}/s, applied"
                f" {result.apply_rate:.0f}/s (inbox drained at {result.drain_rate:.0f}/s),"
                f" ratio {result.ratio:.2f}, load {result.load:.1f}"
            )
        return rounds, bad


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[None]:
    import subprocess

    with log.open("wb") as out:
        process = subprocess.Popen(
            [*LEDGER, "worker"], cwd=ROOT, env=ledger_env(env), stdout=out, stderr=out
        )
        try:
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)


def report(rounds: list[Round], args: argparse.Namespace, bad: int) -> bool:
    table = Table(
        title=f"{args.deliveries} deliveries for {args.organizers} organizers per round,"
        f" {args.concurrency} in flight, worker running throughout"
    )
    columns = (
        "round",
        "ingest /s",
        "drained /s",
        "applied /s",
        "apply / ingest",
        "load",
        "non-200",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for number, r in enumerate(rounds, 1):
        table.add_row(
            str(number),
            f"{r.ingest_rate:.0f}",
            f"{r.drain_rate:.0f}",
            f"{r.apply_rate:.0f}",
            f"{r.ratio:.2f}",
            f"{r.load:.1f}",
            str(r.non_200),
        )
    ratio = median(r.ratio for r in rounds)
    table.add_row(
        "median",
        f"{median(r.ingest_rate for r in rounds):.0f}",
        f"{median(r.drain_rate for r in rounds):.0f}",
        f"{median(r.apply_rate for r in rounds):.0f}",
        f"{ratio:.2f} (≥ {RATIO_TARGET}: {'PASS' if ratio >= RATIO_TARGET else 'MISS'})",
        "",
        "",
    )
    console.print(table)
    console.print(f"inbox rows not processed at the end: {bad}")
    return bad == 0 and all(r.non_200 == 0 for r in rounds)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--organizers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database-url", default=os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()
    if not (1 <= args.organizers <= args.deliveries <= 200_000 and 1 <= args.rounds <= 20):
        parser.error("need 1 <= organizers <= deliveries <= 200000 and 1 <= rounds <= 20")
    if not 1 <= args.concurrency <= 256:
        parser.error("concurrency must be from 1 to 256")
    return args


def main() -> int:
    args = parse_args()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    console.print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores · load average {load}"
        f" · Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        try:
            rounds, bad = benchmark(args, Path(folder))
        except RuntimeError as error:
            console.print(f"[red]benchmark failed: {error}")
            return 1
    sound = report(rounds, args, bad)
    console.print(f"load average at the end {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
