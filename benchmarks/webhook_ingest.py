"""Webhook ingest throughput and latency, beside one-INSERT baselines, on PostgreSQL.

Starts ``ledger serve`` and ``benchmarks/baseline_app.py`` on a fresh schema, drives
signed Stripe deliveries (each a distinct event) at them over loopback with an asyncio
httpx client, one target at a time, and prints:

- closed loop: ``--requests`` POSTs per target with ``--concurrency`` in flight, split into
  ``--rounds`` rounds that alternate the targets (B W, W B, B W …), each round after a
  fresh warm-up → median throughput, p50, p99, and CPU per request of the server, its
  PostgreSQL backends and the client. Alternating, and comparing each pair of rounds
  that ran back to back, cancels most drift on a shared machine (other processes,
  autovacuum, checkpoints);
- open loop: ``--rate`` POSTs per second for ``--duration`` s, sent on schedule whether
  or not earlier answers came back → achieved rate, p50, p99.

Two baselines (issue 12, "honest baselines"): ``baseline`` is the same single autocommit
round trip the webhook's inbox insert makes, and the verdict is against it;
``baseline-tx`` (BEGIN, INSERT, COMMIT: the baseline used before, which the webhook
"beat") is reported beside it. The load average is printed at the start, after every
round and at the end: a figure from a round under a much higher load is suspect.

Targets (issue): webhook throughput ≥ 0.70 x baseline; webhook p99 ≤ 50 ms at 200 req/s.
The script reports PASS/MISS, it does not assert; it exits 1 only if something failed
(a server did not start, a request was not answered 200, a row was not stored).

    .venv/bin/python benchmarks/webhook_ingest.py [--requests 3000] [--concurrency 32]
        [--rounds 4] [--rate 200] [--duration 10] [--pool-size 4] [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make app/ and tests/support importable
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from statistics import median, quantiles  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402
import uvloop  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.support.postgres import with_schema  # noqa: E402
from tests.support.processes import LEDGER, free_port, http_process, ledger_env  # noqa: E402
from tests.support.stripe_payloads import subscription_event  # noqa: E402
from tests.support.webhooks import SECRET, signed  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
WARM_UP = 100
RATIO_TARGET = 0.70
P99_TARGET_MS = 50.0
LAG_WARNING_MS = 10.0
BASELINE = [sys.executable, "-m", "benchmarks.baseline_app"]
Prepared = tuple[bytes, dict[str, str]]
console = Console()
if not console.is_terminal:
    console.width = 160  # the tables fit; 80 would wrap them in a log or a README

if importlib.util.find_spec("sniffio") is None:
    # httpcore tries `import sniffio` on every lock it sets up; without the package each
    # attempt walks sys.path (a quarter of the client's CPU). None makes it fail at once.
    sys.modules["sniffio"] = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used by the server process, its PostgreSQL backends and this client."""

    server: float
    postgres: float
    client: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.server - other.server,
            self.postgres - other.postgres,
            self.client - other.client,
        )

    def __add__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.server + other.server,
            self.postgres + other.postgres,
            self.client + other.client,
        )


@dataclass
class Run:
    """What one phase against one target measured."""

    sent: int = 0
    wall_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    lags_s: list[float] = field(default_factory=list)  # open loop: sent late by the client
    statuses: Counter[int | str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    cpu_s: Cpu = field(default_factory=lambda: Cpu(0.0, 0.0, 0.0))
    load: float = 0.0  # the 1-minute load average when the phase ended

    def cpu_ms(self, part: str) -> float:
        """CPU per request of one ``Cpu`` field: what a request costs, whatever the bottleneck."""
        return float(getattr(self.cpu_s, part)) * 1000 / self.sent if self.sent else float("nan")

    @property
    def ok(self) -> int:
        return self.statuses[200]

    @property
    def errors(self) -> int:
        return self.sent - self.ok

    @property
    def rate(self) -> float:
        return self.sent / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, values: Sequence[float], pct: int) -> float:
        if len(values) < 2:
            return values[0] * 1000 if values else float("nan")
        return quantiles(values, n=100, method="inclusive")[pct - 1] * 1000


class Clients:
    """httpx clients with one connection each, lent to one request at a time.

    One shared ``AsyncClient`` with 32 connections spends most of the client's CPU in
    httpcore's pool bookkeeping, which scans (and polls) every connection on each request
    (encode/httpcore#928): on 2 cores that throttled both targets to ~300 req/s. A client
    per connection keeps that scan at one entry, so the servers, not the client, are
    what the figures measure.
    """

    def __init__(self) -> None:
        self._idle: list[httpx.AsyncClient] = []
        self._all: list[httpx.AsyncClient] = []
        self._tls = httpx.create_ssl_context()  # unused on http://, but built once, not per client

    def _new(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=1), timeout=30, verify=self._tls
        )
        self._all.append(client)
        return client

    def reserve(self, count: int) -> None:
        """Create the clients a closed loop needs before timing it."""
        self._idle.extend(self._new() for _ in range(count - len(self._all)))

    async def post(self, url: str, request: Prepared) -> httpx.Response:
        client = self._idle.pop() if self._idle else self._new()
        try:
            body, headers = request
            return await client.post(url, content=body, headers=headers)
        finally:
            self._idle.append(client)

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._all))


def merged(runs: Sequence[Run]) -> Run:
    total = Run()
    for run in runs:
        total.sent += run.sent
        total.wall_s += run.wall_s
        total.latencies_s += run.latencies_s
        total.statuses += run.statuses
        total.failures += run.failures
        total.cpu_s += run.cpu_s
    return total


@dataclass
class Target:
    """One server under test and everything measured on it."""

    name: str
    tag: str  # one letter in this target's event ids
    appname: str  # its pool's PostgreSQL application_name
    url: str
    pid: int
    clients: Clients
    backends: list[int] = field(default_factory=list)  # its pool's PostgreSQL backend pids
    warm: list[Run] = field(default_factory=list)
    rounds: list[Run] = field(default_factory=list)
    open: Run = field(default_factory=Run)
    stored: int = 0

    @property
    def rate(self) -> float:
        """Median closed-loop throughput over the rounds."""
        return median(run.rate for run in self.rounds) if self.rounds else 0.0

    def runs(self) -> list[Run]:
        return [*self.warm, *self.rounds, self.open]


def prepare(tag: str, count: int) -> list[Prepared]:
    """Distinct, signed deliveries (unique evt_ ids), built and signed before timing."""
    return [
        signed(subscription_event("basil", event_id=f"evt_bench{tag}{i:07d}")) for i in range(count)
    ]


async def send(clients: Clients, url: str, request: Prepared, run: Run) -> None:
    start = time.perf_counter()
    try:
        response = await clients.post(url, request)
    except httpx.HTTPError as error:
        run.statuses[type(error).__name__] += 1
        run.failures.append(f"{type(error).__name__}: {error}")
    else:
        run.statuses[response.status_code] += 1
        if response.status_code != 200:
            run.failures.append(f"{response.status_code}: {response.text[:200]}")
    run.latencies_s.append(time.perf_counter() - start)


async def closed_loop(target: Target, requests: list[Prepared], concurrency: int) -> Run:
    """``concurrency`` workers, each sending its next request as soon as one is answered."""
    run = Run(sent=len(requests))
    pending = iter(requests)

    async def worker() -> None:
        for request in pending:  # the shared iterator hands each request to one worker
            await send(target.clients, target.url, request, run)

    cpu_before, start = cpu_now(target), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.wall_s = time.perf_counter() - start
    run.cpu_s = cpu_now(target) - cpu_before
    return run


async def open_loop(target: Target, requests: list[Prepared], rate: float) -> Run:
    """Request i leaves at t0 + i/rate, whether or not earlier ones were answered."""
    run = Run(sent=len(requests))
    tasks: list[asyncio.Task[None]] = []
    cpu_before, start = cpu_now(target), time.perf_counter()
    for i, request in enumerate(requests):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.lags_s.append(max(0.0, time.perf_counter() - due))
        tasks.append(asyncio.create_task(send(target.clients, target.url, request, run)))
    await asyncio.gather(*tasks)
    run.wall_s = time.perf_counter() - start  # until the last answer: the rate achieved
    run.cpu_s = cpu_now(target) - cpu_before
    return run


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc; NaN elsewhere, e.g. for
    the backends of a PostgreSQL on another host)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(target: Target) -> Cpu:
    backends = sum(cpu_seconds(pid) for pid in target.backends) if target.backends else 0.0
    return Cpu(cpu_seconds(target.pid), backends, time.process_time())


def backend_pids(server_url: str, application_name: str) -> list[int]:
    """The backends of one server's pool (libpq sets application_name from PGAPPNAME)."""
    with psycopg.connect(server_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    return [int(row[0]) for row in rows]


async def drive(targets: list[Target], args: argparse.Namespace, schema: str) -> None:
    """Closed-loop rounds alternating the targets, then each target's open loop.

    Deliveries are built and signed just before each phase (outside the timing), so their
    timestamps stay within the webhook's 300 s tolerance however long the run.
    """
    per_round = -(-args.requests // args.rounds)
    for number in range(args.rounds):
        for target in targets if number % 2 == 0 else targets[::-1]:
            tag = f"{target.tag}{number}"
            warm, timed = prepare(f"{tag}w", WARM_UP), prepare(f"{tag}c", per_round)
            target.clients.reserve(args.concurrency)
            target.warm.append(await closed_loop(target, warm, args.concurrency))
            target.backends = backend_pids(args.database_url, target.appname)
            target.rounds.append(await closed_loop(target, timed, args.concurrency))
            target.rounds[-1].load = os.getloadavg()[0]
    for target in targets:
        paced = prepare(f"{target.tag}o", round(args.rate * args.duration))
        await asyncio.sleep(1)  # let the server and PostgreSQL settle between phases
        target.backends = backend_pids(args.database_url, target.appname)
        target.open = await open_loop(target, paced, args.rate)


@contextmanager
def server(command: list[str], env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """A server subprocess on a free loopback port; yields (base URL, pid) once /readyz is 200."""
    with http_process(
        command, cwd=ROOT, env=env, log=log, port=free_port(), ready_path="/readyz"
    ) as (base, process):
        yield base, process.pid


@contextmanager
def fresh_schema(server_url: str) -> Iterator[tuple[str, str]]:
    """A new schema for this run, dropped afterwards; yields (schema, ledger URL)."""
    schema = f"bench_ingest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema, with_schema(server_url, schema)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def count_rows(server_url: str, schema: str, table: str) -> int:
    with psycopg.connect(server_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()
    return int(row[0]) if row else 0


def migrate(env: dict[str, str]) -> str:
    """``ledger migrate``, as a release would run it; returns what it printed."""
    migrated = subprocess.run(
        [*LEDGER, "migrate"],
        cwd=ROOT,
        env=ledger_env(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if migrated.returncode != 0:
        msg = f"ledger migrate failed: {migrated.stderr.strip()}"
        raise RuntimeError(msg)
    return migrated.stdout.strip()


def benchmark(args: argparse.Namespace, logs: Path) -> list[Target]:
    """Fresh schema, both servers, the phases; the schema is dropped whatever happens."""
    with fresh_schema(args.database_url) as (schema, url):
        env = {
            "LEDGER_DATABASE_URL": url,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "LEDGER_LOG_LEVEL": "warning",
            "LEDGER_DB_POOL_SIZE": str(args.pool_size),
        }
        console.print(f"schema {schema}: {migrate(env)}")
        # (target, server, path, table): both baselines are routes of one server process,
        # measured one at a time like every target.
        plan = [
            ("baseline", "baseline", "/ingest", "baseline_ingest"),
            ("baseline-tx", "baseline", "/ingest-transaction", "baseline_ingest_tx"),
            ("webhook", "ledger", "/webhooks/stripe", "stripe_inbox"),
        ]
        commands = {"baseline": BASELINE, "ledger": [*LEDGER, "serve"]}
        targets: list[Target] = []
        with ExitStack() as servers:
            started: dict[str, tuple[str, int]] = {}
            for name, command in commands.items():
                named = {**env, "PGAPPNAME": f"{schema}-{name}"}
                started[name] = servers.enter_context(server(command, named, logs / f"{name}.log"))
            for tag, (name, process, path, _) in zip("btw", plan, strict=True):
                base, pid = started[process]
                targets.append(
                    Target(name, tag, f"{schema}-{process}", base + path, pid, Clients())
                )
            console.print(
                f"{args.rounds} closed-loop rounds (alternating), then the open loop on each …"
            )
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                try:
                    runner.run(drive(targets, args, schema))
                finally:
                    for target in targets:
                        runner.run(target.clients.aclose())
        for target, (*_, table) in zip(targets, plan, strict=True):
            target.stored = count_rows(args.database_url, schema, table)
        return targets


def report(targets: list[Target], args: argparse.Namespace) -> bool:
    """Print the tables; False when a request went unanswered or a row went missing."""
    sound, stored = True, []
    for t in targets:
        every = merged(t.runs())
        stored.append(f"{t.name} {t.stored}/{every.ok}")
        for failure in every.failures[:10]:
            console.print(f"[red]{t.name}: {failure}")
        sound = sound and every.errors == 0 and t.stored == every.ok
    console.print(closed_table(targets, args), open_table(targets, args))
    console.print(f"rows stored / answered 200 (warm-ups included): {', '.join(stored)}")
    for t in targets:
        lag = t.open.percentile_ms(t.open.lags_s, 99)
        if lag > LAG_WARNING_MS:
            console.print(
                f"[yellow]{t.name}: the client itself sent late (lag p99 {lag:.0f} ms): the"
                " machine was short of CPU, and the open-loop latencies include that"
            )
    console.print(verdict_table(targets, args))
    return sound


def closed_table(targets: list[Target], args: argparse.Namespace) -> Table:
    table = Table(
        title=f"Closed loop: {args.requests} requests per target in {args.rounds} alternating"
        f" rounds, {args.concurrency} in flight (req/s: median of the rounds)"
    )
    columns = ("target", "req/s", "rounds", "load", "p50 ms", "p99 ms", "non-200")
    for column in (*columns, "CPU ms/req: server", "postgres", "client"):
        table.add_column(column, justify="right")
    for t in targets:
        c = merged(t.rounds)
        table.add_row(
            t.name,
            f"{t.rate:.0f}",
            "/".join(f"{run.rate:.0f}" for run in t.rounds),
            "/".join(f"{run.load:.1f}" for run in t.rounds),
            f"{c.percentile_ms(c.latencies_s, 50):.1f}",
            f"{c.percentile_ms(c.latencies_s, 99):.1f}",
            str(c.errors),
            *(f"{c.cpu_ms(part):.2f}" for part in ("server", "postgres", "client")),
        )
    return table


def open_table(targets: list[Target], args: argparse.Namespace) -> Table:
    table = Table(title=f"Open loop: {args.rate:g} req/s for {args.duration:g} s")
    for column in ("target", "achieved req/s", "p50 ms", "p99 ms", "max ms", "non-200"):
        table.add_column(column, justify="right")
    table.add_column("client lag p99 ms", justify="right")
    for t in targets:
        o = t.open
        table.add_row(
            t.name,
            f"{o.rate:.0f}",
            f"{o.percentile_ms(o.latencies_s, 50):.1f}",
            f"{o.percentile_ms(o.latencies_s, 99):.1f}",
            f"{max(o.latencies_s, default=0) * 1000:.1f}",
            str(o.errors),
            f"{o.percentile_ms(o.lags_s, 99):.1f}",
        )
    return table


def verdict_table(targets: list[Target], args: argparse.Namespace) -> Table:
    """The issue's targets. Throughput is compared round by round (each pair of rounds ran
    back to back), and the median of those ratios is the figure."""
    baseline, transaction, webhook = targets
    ratio, ratios = round_ratios(webhook, baseline)
    tx_ratio, tx_ratios = round_ratios(webhook, transaction)
    p99 = webhook.open.percentile_ms(webhook.open.latencies_s, 99)
    b, w = merged(baseline.rounds), merged(webhook.rounds)
    cost = [run.cpu_ms("server") + run.cpu_ms("postgres") for run in (b, w)]
    table = Table(title="Targets")
    for column in ("measure", "value", "target", "result"):
        table.add_column(column)
    table.add_row(
        "webhook / baseline throughput (same single autocommit round trip)",
        f"{ratio:.2f} (rounds {' '.join(f'{r:.2f}' for r in ratios)})",
        f"≥ {RATIO_TARGET}",
        _pass(ratio >= RATIO_TARGET),
    )
    table.add_row(
        "webhook / baseline-tx throughput (BEGIN, INSERT, COMMIT: the old baseline)",
        f"{tx_ratio:.2f} (rounds {' '.join(f'{r:.2f}' for r in tx_ratios)})",
        "-",
        "info",
    )
    table.add_row(
        f"webhook p99 at {args.rate:g} req/s",
        f"{p99:.1f} ms",
        f"≤ {P99_TARGET_MS:g} ms",
        _pass(p99 <= P99_TARGET_MS),
    )
    table.add_row(
        "CPU/req (server + postgres), baseline / webhook",
        f"{cost[0] / cost[1]:.2f} ({cost[0]:.2f} / {cost[1]:.2f} ms)",
        "-",
        "info",
    )
    return table


def round_ratios(target: Target, baseline: Target) -> tuple[float, list[float]]:
    """Throughput ratio round by round (each pair of rounds ran close together) and the
    median of those ratios, which is the figure."""
    ratios = [t.rate / b.rate for b, t in zip(baseline.rounds, target.rounds, strict=True)]
    return median(ratios), ratios


def _pass(ok: bool) -> str:
    return "[green]PASS" if ok else "[red]MISS"


def bounded(low: float, high: float, kind: Callable[[str], float]) -> Callable[[str], float]:
    """argparse type: keeps request counts and durations within sane bounds."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            msg = f"{text} is not within {low:g}..{high:g}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--requests", type=bounded(100, 50_000, int), default=3000)
    parser.add_argument("--concurrency", type=bounded(1, 256, int), default=32)
    parser.add_argument("--rounds", type=bounded(1, 20, int), default=4)
    parser.add_argument("--rate", type=bounded(1, 2000, float), default=200.0)
    parser.add_argument("--duration", type=bounded(1, 120, float), default=10.0)
    parser.add_argument("--pool-size", type=bounded(1, 64, int), default=4)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL server (default: $LEDGER_BENCH_DATABASE_URL or %(default)s)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    console.print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores for client, servers"
        f" and PostgreSQL · load average {load} · pool {args.pool_size}"
        f" · Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        try:
            targets = benchmark(args, Path(folder))
        except (RuntimeError, psycopg.Error, OSError) as error:
            console.print(f"[red]benchmark failed: {error}")
            return 1
        except KeyboardInterrupt:  # servers stopped and schema dropped on the way out
            console.print("[red]interrupted")
            return 130
    sound = report(targets, args)
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    console.print(f"load average at the end {load}")
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
