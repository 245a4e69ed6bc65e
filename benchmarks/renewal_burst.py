"""Renewal-day burst: every subscription renewing in the same hour, against Stripe's rate limit.

Sets up (not timed) ``--subscriptions`` customers and subscriptions (quantity 1) on the
Stripe test double, run as its own process (``ledger dev stripe``) so that its CPU does
not share the ledger's GIL, and on the ledger side one organizer per subscription with
its snapshot, 2 to 5 active groups and an upcoming renewal (``RenewalUpcoming``, period end
= the item's ``current_period_end``: all within the same hour). The reactor and the read
models take the history before renewal day untimed, as a running worker took it when it
happened; the renewal-day log is the ``RenewalUpcoming`` events. Then, timed, it runs what
the worker runs on renewal day, side by side as ``ledger worker`` runs its loops:

- the ``RenewalReactor`` following the log → one ``QuantitySyncRequested`` per organizer;
- the read models following the log (the sender's queue is ``rm_quantity_syncs``);
- ``SyncSender.run_once`` in a loop through ``StripeGateway(max_rps=--max-rps)`` with
  ``--concurrency`` threads, from the first instant, until no sync is pending;

and the timed phase ends when the read models have taken the last confirmation. The
rate the issue asks about is updates / that whole phase; the first-to-last rate of the
double's log is printed beside it.

The double answers 429 beyond ``--max-rps`` requests per one-second window
(``rate_limit_rps``), so overshooting the limit would show. Sending time is taken from
the double's request log (first to last quantity update). Finally a full reconciliation
runs — ``app.services.process.reconcile.Reconciliation`` (what ``ledger reconcile`` runs) when the
checkout has it, else the bare listing it needs — which lists every subscription with
``StripeGateway.subscriptions()`` (100 per page): its requests are the Stripe cost of a
reconciliation, and the listing checks every Stripe quantity against the groups.

Targets (issue): achieved rate ≥ 0.9 x the limit; 0 429s from our own pacing; ≤ 0.02
Stripe calls per organizer for a full reconciliation. It reports PASS/MISS, it does not
assert; it exits 1 only if the run itself went wrong (a sync not confirmed, a wrong
quantity on Stripe).

    .venv/bin/python benchmarks/renewal_burst.py [--subscriptions 10000] [--max-rps 100]
        [--concurrency 8] [--database-url URL | --sqlite] [--mode burst | renewal-day]

``--mode renewal-day`` measures draft corrections instead: every renewal draft at once,
half to correct (benchmarks/renewal_day.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make app/ and tests/support importable
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from adapters.stripe.gateway import PACING_FACTOR, StripeGateway  # noqa: E402
from app.bootstrap import Container  # noqa: E402
from app.services.ledger import LedgerApplication  # noqa: E402
from app.services.process.manager import RenewalReactor, SyncSender  # noqa: E402
from app.settings import load_settings  # noqa: E402
from benchmarks import renewal_day as day_mode  # noqa: E402
from projections.base import ReadModel  # noqa: E402
from projections.follower import SENDER_QUEUES, Follower  # noqa: E402
from projections.runner import (  # noqa: E402
    READ_MODELS,
    LogReader,
    build_read_models,
    catch_up,
    lowest_position,
)
from tests.support.burst import (  # noqa: E402
    API_KEY,
    DoubleProcess,
    Seeded,
    double_process,
    seed_organizers,
    seed_stripe,
    seed_upcoming,
)
from tests.support.postgres import with_schema  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SEND_DEADLINE_S = 1800  # stop by itself even if syncs never settle
RATE_TARGET = 0.9
CALLS_TARGET = 0.02
QUANTITY_UPDATE = "/v1/subscription_items/"
console = Console(stderr=True)


@dataclass
class Timings:
    reactor_s: float = 0.0  # the loops start → the reactor has taken the renewal-day log
    projections_s: float = 0.0  # no sync pending → the read models took the last events
    sending_s: float = 0.0  # the loops start → no sync pending
    run_once_calls: int = 0
    attempted: int = 0
    ledger_cpu_s: float = 0.0  # this process's CPU while sending
    double_cpu_s: float = 0.0  # the double's process's CPU while sending
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average as sending starts, ends

    total_s: float = 0.0  # the whole timed phase: the loops start → read models caught up


@dataclass
class Sent:
    """The timed phase as the double's request log saw it."""

    updates: list[dict[str, Any]]
    statuses: Counter[int | None]
    pacing_rate: float

    @property
    def span_s(self) -> float:
        if len(self.updates) < 2:
            return float("nan")
        return float(self.updates[-1]["at"] - self.updates[0]["at"])

    @property
    def rate(self) -> float:
        return len(self.updates) / self.span_s if len(self.updates) > 1 else 0.0

    @property
    def ideal_s(self) -> float:
        """First to last update if every one left exactly on its pacing slot."""
        return (len(self.updates) - 1) / self.pacing_rate

    def gaps(self) -> list[float]:
        at = [float(u["at"]) for u in self.updates]
        return sorted((b - a for a, b in itertools.pairwise(at)), reverse=True)


@dataclass
class Reconciled:
    """The full reconciliation's listing, its Stripe calls, and what it found."""

    calls: int
    statuses: Counter[int | None]
    seconds: float
    listed: list[dict[str, Any]]
    differences: int | None  # None: no reconciliation code to run, only the listing
    note: str


# -- the store and the double ---------------------------------------------------------


@contextmanager
def store(args: argparse.Namespace) -> Iterator[str]:
    """A fresh ``bench_<hex>`` PostgreSQL schema (dropped afterwards), or a temp SQLite file."""
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="renewal-burst-") as folder:
            yield f"sqlite:///{Path(folder) / 'ledger.sqlite3'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(args.database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(args.database_url, schema)
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# -- the timed phase ------------------------------------------------------------------


@dataclass
class Loops:
    """What ``ledger worker`` runs on the log: the reactor and the read models."""

    reactor: RenewalReactor
    models: list[ReadModel]  # every read model: ``queues`` first, then the others

    queues: int  # how many of ``models`` are the senders' queues (``SENDER_QUEUES``)

    @classmethod
    def build(cls, container: Container) -> Loops:
        reactor = RenewalReactor(container.database, container.ledger, container.renewal_policy())
        minimum = container.settings.minimum_quantity
        queues = build_read_models(
            container.database, minimum_quantity=minimum, names=SENDER_QUEUES
        )
        others = [name for name in READ_MODELS if name not in SENDER_QUEUES]
        rest = build_read_models(container.database, minimum_quantity=minimum, names=others)
        return cls(reactor, [*queues, *rest], len(queues))

    def followed(self) -> list[tuple[str, list[Any]]]:
        """What ``ledger worker`` follows, each in its own loop."""
        return [
            ("reactor", [self.reactor]),
            ("queues", self.models[: self.queues]),
            ("projections", self.models[self.queues :]),
        ]

    def catch_up(self, container: Container) -> int:
        """Take the log as it stands (untimed): the history before renewal day, which a
        running worker took when it happened, days before the burst."""
        reader = LogReader(container.ledger, container.settings.projection_batch_size)
        return max(catch_up(reader, [self.reactor]), catch_up(reader, self.models))


def renewal_day(
    container: Container,
    gateway: StripeGateway,
    double: DoubleProcess,
    concurrency: int,
    loops_: Loops,
) -> Timings:
    """Run the worker's loops side by side, as ``ledger worker`` does, from the renewal-day
    log to every sync confirmed and every read model caught up: the reactor follows the
    log (→ ``QuantitySyncRequested``), the read models follow it (the sender's queue is
    ``rm_quantity_syncs``), and the sender sends what is queued while both still run.
    Both start where the history before renewal day left them (``Loops.catch_up``)."""
    timings = Timings()
    ledger, database = container.ledger, container.database
    policy = container.renewal_policy()
    batch = container.settings.projection_batch_size
    seed_end = ledger.recorder.max_notification_id() or 0
    reactor, models = loops_.reactor, loops_.models
    sender = SyncSender(database, ledger, gateway, policy, concurrency=concurrency)
    stop = threading.Event()
    loops = [
        threading.Thread(
            target=Follower(LogReader(ledger, batch), loop, poll_s=0.05).run,
            args=(stop,),
            name=name,
            daemon=True,
        )
        for name, loop in loops_.followed()
    ]
    started, cpu, double_cpu = time.perf_counter(), time.process_time(), double.cpu_s()
    load_before = os.getloadavg()[0]
    for loop in loops:
        loop.start()
    try:
        while time.perf_counter() - started < SEND_DEADLINE_S:
            attempted = sender.run_once()
            timings.run_once_calls += 1
            timings.attempted += attempted
            reacted = (reactor.view.max_tracking_id() or 0) >= seed_end
            if reacted and not timings.reactor_s:
                timings.reactor_s = time.perf_counter() - started
            if attempted == 0:
                if reacted and settled(container, models):
                    break
                time.sleep(0.05)  # the read models lag, or retries are not due yet
        timings.sending_s = time.perf_counter() - started
        # The tail: the read models take the last confirmations (they still follow).
        while not caught_up(ledger, models) and time.perf_counter() - started < SEND_DEADLINE_S:
            time.sleep(0.02)
        timings.total_s = time.perf_counter() - started
        timings.projections_s = timings.total_s - timings.sending_s
        timings.ledger_cpu_s = time.process_time() - cpu
        timings.double_cpu_s = double.cpu_s() - double_cpu
        timings.load = (load_before, os.getloadavg()[0])
    finally:
        stop.set()
        for loop in loops:
            loop.join(timeout=30)
        sender.close()
    console.print(
        f"  reactor done after {timings.reactor_s:.1f} s; no sync pending after"
        f" {timings.sending_s:.1f} s; read models caught up after {timings.total_s:.1f} s"
    )
    return timings


def caught_up(ledger: LedgerApplication, models: Sequence[ReadModel]) -> bool:
    """The read models have taken every event the log holds now."""
    return lowest_position(models) >= (ledger.recorder.max_notification_id() or 0)


def settled(container: Container, models: Sequence[ReadModel]) -> bool:
    """Nothing left to send: every requested sync is in the read model and none pending."""
    return caught_up(container.ledger, models) and pending_syncs(container) == 0


def pending_syncs(container: Container) -> int:
    with container.database.transaction() as cursor:
        row = cursor.execute(
            "SELECT count(*) AS n FROM rm_quantity_syncs WHERE status IN ('pending', 'retrying')"
        ).fetchone()
    return int(row["n"]) if row is not None else 0


def sync_statuses(container: Container) -> Counter[str]:
    with container.database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT status, count(*) AS n FROM rm_quantity_syncs GROUP BY status"
        ).fetchall()
    return Counter({str(r["status"]): int(r["n"]) for r in rows})


# -- reconciliation and checks --------------------------------------------------------


def requests_log(admin: httpx.Client) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = admin.get("/_double/requests").raise_for_status().json()
    return entries


def sent_log(admin: httpx.Client, pacing_rate: float) -> Sent:
    """The timed phase's requests; the log is emptied for the reconciliation."""
    entries = requests_log(admin)
    admin.delete("/_double/requests").raise_for_status()
    updates = [r for r in entries if r["path"].startswith(QUANTITY_UPDATE)]
    return Sent(updates, Counter(r["status"] for r in entries), pacing_rate)


def reconciliation_code() -> Any | None:
    """``app.services.process.reconcile`` (behind ``ledger reconcile``) if this checkout has it.

    Imported by name: the benchmark predates the command and must run without it.
    """
    try:
        return importlib.import_module("app.services.process.reconcile")
    except ImportError:
        return None


def reconcile(container: Container, gateway: StripeGateway, admin: httpx.Client) -> Reconciled:
    """A full reconciliation (list, compare) — or, without the code, the listing it needs."""
    module = reconciliation_code()
    listed: list[dict[str, Any]] = []

    def keep(subscriptions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for subscription in subscriptions:
            listed.append(subscription)
            yield subscription

    started = time.perf_counter()
    differences: int | None = None
    if module is None:
        note = (
            "no app/services/process/reconcile.py: the listing a reconciliation needs was measured"
        )
        for _ in keep(gateway.subscriptions()):
            pass
    else:
        note = "app.services.process.reconcile.Reconciliation: list every subscription, compare"
        run = module.Reconciliation(
            container.database,
            container.ledger,
            gateway,
            minimum_quantity=container.settings.minimum_quantity,
        )
        differences = len(run.differences(keep(run.subscriptions())))
    seconds = time.perf_counter() - started
    entries = requests_log(admin)
    return Reconciled(
        calls=len(entries),
        statuses=Counter(r["status"] for r in entries),
        seconds=seconds,
        listed=listed,
        differences=differences,
        note=note,
    )


def wrong_quantities(
    subscriptions: Sequence[Seeded], listed: Sequence[dict[str, Any]]
) -> list[str]:
    """Subscriptions whose Stripe quantity is not their organizer's active group count."""
    by_id = {s["id"]: s for s in listed}
    wrong = []
    for seeded in subscriptions:
        found = by_id.get(seeded.subscription_id)
        quantity = None if found is None else found["items"]["data"][0]["quantity"]
        if quantity != seeded.groups:
            wrong.append(f"{seeded.subscription_id}: {quantity} on Stripe, {seeded.groups} groups")
    return wrong


# -- the run and the report -----------------------------------------------------------


@dataclass
class Results:
    timings: Timings
    sent: Sent
    syncs: Counter[str]
    reconciled: Reconciled
    wrong: list[str]
    setup_s: tuple[float, float]

    def ok(self, count: int) -> bool:
        return self.syncs["confirmed"] == count and not self.wrong


def run(args: argparse.Namespace) -> int:
    wall = time.perf_counter()
    if args.mode == "renewal-day":
        with store(args) as url, double_process() as double:
            measured = day_mode.measure_day(args, url, double.base_url)
        day_mode.report_day(args, measured, wall_s=time.perf_counter() - wall)
        return 0 if not measured.wrong else 1
    with store(args) as url, double_process() as double:
        results = measure(args, url, double)
    report(args, results, wall_s=time.perf_counter() - wall)
    return 0 if results.ok(args.subscriptions) else 1


def measure(args: argparse.Namespace, url: str, double: DoubleProcess) -> Results:
    base = double.base_url
    container = Container(load_settings(LEDGER_DATABASE_URL=url, LEDGER_MINIMUM_QUANTITY=1))
    gateway = StripeGateway(api_key=API_KEY, api_base=base, max_rps=args.max_rps)
    try:
        with httpx.Client(base_url=base, timeout=60) as admin:
            container.migrate()
            console.print(f"[bold]setup[/]: {args.subscriptions:,} subscriptions on the double")
            started = time.perf_counter()
            subscriptions = seed_stripe(base, args.subscriptions)
            stripe_s = time.perf_counter() - started
            console.print(f"  {stripe_s:.1f} s; the ledger side …")
            started = time.perf_counter()
            organizers = seed_organizers(container.ledger, subscriptions)
            loops_ = Loops.build(container)
            before = loops_.catch_up(container)
            seed_upcoming(container.ledger, organizers, subscriptions)
            # The seeded aggregates are this script's, not the worker's: kept, each of
            # Python's full collections during the timed phase walked them (~15 of
            # 150-200 ms, every thread stopped, at 10,000). The rest is frozen as
            # ``ledger worker`` freezes what it built at start (app/entrypoints/cli/worker.py).
            del organizers
            gc.collect()
            gc.freeze()
            ledger_s = time.perf_counter() - started
            console.print(
                f"  {ledger_s:.1f} s ({before:,} events of the history before renewal day"
                " taken by the reactor and the read models, untimed)"
            )
            admin.post("/_double/config", json={"rate_limit_rps": args.max_rps}).raise_for_status()
            admin.delete("/_double/requests").raise_for_status()
            console.print("[bold]renewal day[/] (timed)")
            timings = renewal_day(container, gateway, double, args.concurrency, loops_)
            sent = sent_log(admin, args.max_rps * PACING_FACTOR)
            console.print("[bold]reconciliation[/]")
            reconciled = reconcile(container, gateway, admin)
            console.print(f"  {reconciled.seconds:.1f} s")
            return Results(
                timings,
                sent,
                sync_statuses(container),
                reconciled,
                wrong_quantities(subscriptions, reconciled.listed),
                (stripe_s, ledger_s),
            )
    finally:
        gateway.close()
        container.close()


def verdict(ok: bool) -> str:
    return "[green]PASS[/]" if ok else "[red]MISS[/]"


def report(args: argparse.Namespace, results: Results, *, wall_s: float) -> None:
    n = args.subscriptions
    store_name = "SQLite" if args.sqlite else "PostgreSQL"
    table = Table(
        title=f"Renewal-day burst — {n:,} subscriptions, STRIPE_MAX_RPS={args.max_rps},"
        f" sender concurrency {args.concurrency}, {store_name}"
    )
    for column in ("figure", "measured", "target / baseline", "verdict"):
        table.add_column(column)
    add_sending_rows(table, args, results)
    add_time_rows(table, args, results.timings)
    add_check_rows(table, n, results)
    out = Console(width=160)
    out.print(table)
    out.print(f"reconciliation: {results.reconciled.note}")
    out.print(f"total wall time, setup included: {wall_s / 60:.1f} min")


def add_sending_rows(table: Table, args: argparse.Namespace, results: Results) -> None:
    sent, reconciled = results.sent, results.reconciled
    whole = len(sent.updates) / results.timings.total_s if results.timings.total_s else 0.0
    table.add_row(
        "quantity-update rate over the whole timed phase (reactor, read models included)",
        f"{whole:.1f} req/s = {whole / args.max_rps:.3f} x the limit",
        f"≥ {RATE_TARGET} x {args.max_rps} (pacing ceiling {PACING_FACTOR} x)",
        verdict(whole / args.max_rps >= RATE_TARGET),
    )
    table.add_row(
        "quantity-update rate, first → last update (double's log)",
        f"{sent.rate:.1f} req/s = {sent.rate / args.max_rps:.3f} x the limit",
        "the limiter's own figure",
        "",
    )
    table.add_row(
        "quantity updates, first → last (double's log)",
        f"{len(sent.updates):,} in {sent.span_s:.1f} s",
        f"{sent.ideal_s:.1f} s on every pacing slot",
        "",
    )
    gaps = sent.gaps()
    slack = [g for g in gaps if g > 0.1]
    table.add_row(
        "gaps between updates > 100 ms",
        f"{len(slack)}, {sum(slack):.1f} s in all; longest"
        f" {', '.join(f'{g * 1000:.0f}' for g in gaps[:3])} ms",
        f"pacing interval {1000 / sent.pacing_rate:.1f} ms",
        "",
    )
    too_many = sent.statuses[429] + reconciled.statuses[429]
    table.add_row(
        "429s received",
        f"{too_many} ({sent.statuses[429]} sending, {reconciled.statuses[429]} reconciling)",
        "0",
        verdict(too_many == 0),
    )
    other = {k: v for k, v in (sent.statuses + reconciled.statuses).items() if k not in (200, 429)}
    table.add_row("other non-200 answers", str(other or 0), "0", "")


def add_time_rows(table: Table, args: argparse.Namespace, timings: Timings) -> None:
    table.add_row(
        "loops start → reactor took the renewal-day log", f"{timings.reactor_s:.1f} s", "", ""
    )
    table.add_row(
        "none pending → read models took the last events", f"{timings.projections_s:.1f} s", "", ""
    )
    table.add_row(
        "loops start → no sync pending (sending, reactor and read models alongside)",
        f"{timings.sending_s:.1f} s ({timings.run_once_calls} run_once,"
        f" {timings.attempted:,} attempted)",
        f"{args.subscriptions / (args.max_rps * PACING_FACTOR):.1f} s at the pacing rate",
        "",
    )
    table.add_row("wall time: total (timed phase)", f"{timings.total_s:.1f} s", "", "")
    table.add_row(
        "CPU while sending: ledger / double",
        f"{timings.ledger_cpu_s:.1f} s / {timings.double_cpu_s:.1f} s"
        f" ({timings.ledger_cpu_s / timings.sending_s:.0%} /"
        f" {timings.double_cpu_s / timings.sending_s:.0%} of a core)",
        "both share the machine with the store",
        "",
    )
    table.add_row(
        "machine load (1-min average) as sending starts / ends",
        f"{timings.load[0]:.1f} / {timings.load[1]:.1f}",
        f"{os.cpu_count()} CPUs",
        "",
    )


def add_check_rows(table: Table, n: int, results: Results) -> None:
    syncs, reconciled = results.syncs, results.reconciled
    table.add_row(
        "syncs in rm_quantity_syncs",
        ", ".join(f"{v:,} {k}" for k, v in sorted(syncs.items())),
        f"{n:,} confirmed",
        verdict(syncs["confirmed"] == n),
    )
    listed = len(reconciled.listed)
    wrong = results.wrong
    table.add_row(
        "Stripe quantities = active groups",
        f"{listed - len(wrong):,} of {listed:,} listed" + (f" (e.g. {wrong[0]})" if wrong else ""),
        f"{n:,}",
        verdict(not wrong and listed == n),
    )
    per_organizer = reconciled.calls / n
    table.add_row(
        "Stripe calls per organizer, full reconciliation",
        f"{per_organizer:.4f} ({reconciled.calls} calls for {n:,} organizers)",
        f"≤ {CALLS_TARGET}",
        verdict(per_organizer <= CALLS_TARGET),
    )
    found = "listing only" if reconciled.differences is None else f"{reconciled.differences} found"
    table.add_row(
        "reconciliation: wall time, differences",
        f"{reconciled.seconds:.1f} s, {found}",
        "0 differences",
        "",
    )
    stripe_s, ledger_s = results.setup_s
    table.add_row(
        "setup (not timed): double / ledger", f"{stripe_s:.0f} s / {ledger_s:.0f} s", "", ""
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--mode",
        choices=("burst", "renewal-day"),
        default="burst",
        help="burst: quantity syncs ahead of renewals; renewal-day: every draft at once,"
        " half to correct (benchmarks/renewal_day.py)",
    )
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--max-rps", type=int, default=100, help="STRIPE_MAX_RPS and the limit")
    parser.add_argument("--concurrency", type=int, default=8, help="the sender's threads")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL server (a fresh bench_<hex> schema is created in it)",
    )
    parser.add_argument("--sqlite", action="store_true", help="a temp SQLite file instead")
    args = parser.parse_args(argv)
    if args.subscriptions < 2 or args.max_rps <= 0 or args.concurrency < 1:
        parser.error("need --subscriptions ≥ 2, --max-rps > 0, --concurrency ≥ 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
