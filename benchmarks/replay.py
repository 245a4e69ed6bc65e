"""Replay throughput, replay memory and ``as_of`` latency on a synthetic PostgreSQL history.

Generates ``--events`` events for ``--organizers`` organizers through the real domain
(group churn ~70%, monthly renewals: subscription observed, renewal upcoming, invoice
draft → open → paid, payment succeeded, sometimes failed first) into a fresh schema,
one organizer of which holds 10,000 events. At a quarter of the history and again at
the full history, in fresh child processes, it measures:

- raw read-and-decode of the notification log (``LogReader.batches``) — the baseline;
- raw read-and-decode of only the topics the replay reads (``LogReader.scan``: no read
  model looks at the input claims) — a second baseline, so that the report shows how
  much of the gain is reading less;
- full replay of every read model (``projections.runner.replay``), total and each,
  and the child's peak RSS;

then ``get_as_of`` latency at 200 random instants of the 10,000-event organizer.

Targets (issue 12): replay ≥ 0.5 x raw read (same run); replay peak RSS < 300 MB whatever
the history length; as-of p50 ≤ 5 ms. The script reports PASS/MISS, it does not assert.

    .venv/bin/python benchmarks/replay.py [--events 1000000] [--organizers 2000]
        [--database-url URL] [--keep]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make app/ and tests/support importable
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from statistics import quantiles  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from app.bootstrap import Container  # noqa: E402
from app.services.claims import Claims, claim_recorded, take_group_change  # noqa: E402
from app.services.ledger import LedgerApplication, eventsourcing_env  # noqa: E402
from app.settings import load_settings  # noqa: E402
from domain.billing import InvoiceFacts, SubscriptionSnapshot  # noqa: E402
from domain.claims import InputClaim  # noqa: E402
from domain.groups import GroupAction  # noqa: E402
from domain.organizer import Organizer, organizer_uuid  # noqa: E402
from projections.events import decided_classes, decided_topics  # noqa: E402
from projections.runner import (  # noqa: E402
    READ_MODELS,
    REPLAY_BATCH,
    LogReader,
    build_read_models,
    replay,
)
from tests.support.postgres import with_schema  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SNAPSHOT_INTERVAL = 100  # the production default (LEDGER_SNAPSHOT_INTERVAL)
READ_BATCH = REPLAY_BATCH  # replay()'s default, so both sides page the log alike
# Events per ledger.save(): the store locks the table once per save, so bigger is faster,
# but saves over ~4 MB of event state (15k+ events here) often hang in psycopg's pipeline
# (see README).
SAVE_EVENTS = 5_000
PROGRESS_EVERY = 50_000
AS_OF_ORGANIZER = "bench-org-asof"
AS_OF_EVENTS = 10_000
AS_OF_SAMPLES = 200
T0 = datetime(2016, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3650)  # every organizer's history spreads over the same ten years
GROUPS = 12
RATIO_TARGET = 0.5  # issue 12, goal 3
RSS_TARGET_MB = 300.0
P50_TARGET_MS = 5.0  # issue 12, goal 4
console = Console(stderr=True)


# -- generation ----------------------------------------------------------------------


class HistoryBuilder:
    """Drives one ``Organizer`` through its real commands until it holds ``target`` events.

    Every command below records exactly one event, so histories have exact lengths.
    Recorded times (``at``) rise evenly over ``SPAN``, as ``get_as_of`` requires.

    Each command runs with claims lent, as the ledger runs it (``LedgerApplication._decide``),
    and the claims its facts take are saved with the organizer: so the state forgets
    settled invoices and payments as in production (domain/settled.py), and the log holds
    the claim events production's does. Every input is new, so no claim is read back.
    """

    group_pool = GROUPS  # the groups its churn toggles

    def __init__(self, platform_id: str, target: int, rnd: random.Random) -> None:
        self.key = platform_id
        self.target = target
        self.rnd = rnd
        self.step = SPAN / target
        self.at = T0
        self.serial = 0
        self.sources = 0
        self.organizer = Organizer.register(platform_id, at=T0)
        self.claims = Claims(NoClaimsYet(), self.organizer.id, verify=False)
        self.commands = self.schedule()

    @property
    def full(self) -> bool:
        return self.organizer.version >= self.target

    def tick(self) -> datetime:
        self.at += self.step
        self.serial += 1
        return self.at

    def build(self, up_to: int) -> int:
        """Run commands until the organizer is at version ``up_to`` (or full); how many
        events that added."""
        before = self.organizer.version
        while self.organizer.version < min(up_to, self.target):
            self.organizer.lend_claims(self.claims)
            try:
                next(self.commands)()
            finally:
                self.organizer.lend_claims(None)
        return self.organizer.version - before

    def take_claims(self) -> list[InputClaim]:
        """The claims of what was decided since the last save, to save with it."""
        claim_recorded(self.organizer, self.claims, at=self.at)
        taken: list[InputClaim] = list(self.claims.new.values())
        self.claims.new = {}
        return taken

    def schedule(self) -> Iterator[Callable[[], object]]:
        while True:
            # ~14.5 changes per ~6.1 renewal events: about 70% group churn.
            for _ in range(self.rnd.choice((14, 15))):
                yield self.churn
            yield from self.renewal_steps()

    def churn(self) -> None:
        at = self.tick()
        group_id = f"g{self.rnd.randrange(self.group_pool)}"
        entries = self.organizer.groups.get(group_id, [])
        active = bool(entries) and entries[-1]["active"]
        toggle = self.rnd.random() < 0.85  # otherwise a restatement (reaffirmed)
        wants_active = not active if toggle else active
        # Changes occur a little before they are recorded, sometimes out of order (stale).
        take_group_change(
            self.organizer,
            self.claims,
            action=GroupAction.ACTIVATED if wants_active else GroupAction.DEACTIVATED,
            group_id=group_id,
            change_id=f"chg-{self.key}-{self.serial}",
            occurred_at=at - self.step * self.rnd.uniform(0, 3),
            at=at,
        )

    def renewal_steps(self) -> list[Callable[[], object]]:
        org, key, serial = self.organizer, self.key, self.serial
        start = self.at
        end = start + timedelta(days=30)
        quantity = org.billable_quantity()
        amount = 500 * quantity
        invoice = f"in_{key}_{serial}"
        sub = f"sub_{key}"

        def facts(status: str) -> InvoiceFacts:
            return InvoiceFacts(
                invoice_id=invoice,
                subscription_id=sub,
                billing_reason="subscription_cycle",
                period_start=start,
                period_end=end,
                quantity=quantity,
                subtotal=amount,
                tax=amount // 5,
                total=amount + amount // 5,
                amount_due=amount + amount // 5,
                amount_paid=amount + amount // 5 if status == "paid" else 0,
                currency="eur",
                status=status,
            )

        def observe() -> object:
            at = self.tick()
            snapshot = SubscriptionSnapshot(
                subscription_id=sub,
                item_id=f"si_{key}",
                price_id="price_group",
                status="active",
                quantity=quantity,
                current_period_start=start,
                current_period_end=end,
                observed_at=at,
            )
            return org.observe_subscription(snapshot, source=self.source(), at=at)

        def upcoming() -> object:
            return org.note_renewal_upcoming(
                subscription_id=sub,
                period_end=end,
                expected_quantity=quantity,
                expected_amount=amount,
                currency="eur",
                source=self.source(),
                at=self.tick(),
            )

        def invoice_step(status: str) -> Callable[[], object]:
            return lambda: org.record_invoice(facts(status), source=self.source(), at=self.tick())

        def failed() -> object:
            return org.record_payment_failed(
                invoice_id=invoice,
                amount=amount,
                currency="eur",
                attempt_count=1,
                source=self.source(),
                at=self.tick(),
            )

        def succeeded() -> object:
            return org.record_payment_succeeded(
                invoice_id=invoice,
                amount=amount,
                currency="eur",
                source=self.source(),
                at=self.tick(),
            )

        steps = [observe, upcoming, invoice_step("draft"), invoice_step("open")]
        if self.rnd.random() < 0.08:
            steps.append(failed)
        return [*steps, succeeded, invoice_step("paid")]

    def source(self) -> str:
        self.sources += 1
        return f"evt_{self.key}_{self.sources}"


class NoClaimsYet:
    """The generator's claim reader: every input of a fresh history is new."""

    def claimed(self, organizer_id: uuid.UUID, key: str) -> bool:
        return False

    def claimed_any(self, organizer_id: uuid.UUID, keys: Sequence[str]) -> bool:
        return False


def plan_histories(events: int, organizers: int) -> list[tuple[str, int]]:
    """(platform id, history length) per organizer; the as-of organizer comes first."""
    if organizers < 2:
        msg = "--organizers must be at least 2 (the as-of organizer and the others)"
        raise SystemExit(msg)
    special = min(AS_OF_EVENTS, events // 4)
    others = organizers - 1
    base, extra = divmod(events - special, others)
    if base < 2:
        msg = f"{events} events are too few for {organizers} organizers"
        raise SystemExit(msg)
    plan = [(AS_OF_ORGANIZER, special)]
    plan += [(f"bench-org-{i:05d}", base + (1 if i < extra else 0)) for i in range(others)]
    return plan


@dataclass
class Generated:
    events: int = 0
    seconds: float = 0.0
    build_s: float = 0.0


def generate(
    ledger: LedgerApplication, plan: Sequence[tuple[str, int]], done: Generated, seed: int
) -> None:
    """Build organizers in memory and save them many per transaction."""
    rnd = random.Random(seed)
    chunk: list[HistoryBuilder] = []
    pending = 0
    for key, target in plan:
        started = time.perf_counter()
        builder = HistoryBuilder(key, target, rnd)
        pending += 1  # its registration
        while not builder.full:
            pending += builder.build(builder.organizer.version + SAVE_EVENTS - pending)
            if not chunk or chunk[-1] is not builder:
                chunk.append(builder)
            if pending >= SAVE_EVENTS:
                done.build_s += time.perf_counter() - started
                done.seconds += time.perf_counter() - started
                save(ledger, chunk, pending, done)
                chunk, pending = [], 0
                started = time.perf_counter()
        done.build_s += time.perf_counter() - started
        done.seconds += time.perf_counter() - started
    if chunk:
        save(ledger, chunk, pending, done)
    console.print(f"  {done.events:,} events so far ({done.events / done.seconds:,.0f} events/s)")


def save(
    ledger: LedgerApplication, chunk: list[HistoryBuilder], count: int, done: Generated
) -> None:
    """``count``: the organizers' events saved (their claims' events come on top)."""
    started = time.perf_counter()
    claims = [claim for builder in chunk for claim in builder.take_claims()]
    # Also takes every 100th-version snapshot (Application._take_snapshots).
    ledger.save(*(builder.organizer for builder in chunk), *claims)
    done.seconds += time.perf_counter() - started
    reported = done.events // PROGRESS_EVERY
    done.events += count
    if done.events // PROGRESS_EVERY > reported:
        console.print(
            f"  generated {done.events:>9,} events  ({done.events / done.seconds:,.0f} events/s,"
            f" {done.build_s / done.seconds:.0%} of it building in memory)"
        )


# -- measurements, each in a fresh child process --------------------------------------


def status_mb(field: str) -> float:
    """A memory figure of this process from /proc (VmRSS now, VmHWM peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child
    # would report the (large) parent's RSS at fork time.
    return status_mb("VmHWM")


def current_rss_mb() -> float:
    return status_mb("VmRSS")


@contextmanager
def container_for(url: str) -> Iterator[Container]:
    container = Container(
        load_settings(
            LEDGER_DATABASE_URL=url,
            LEDGER_SNAPSHOT_INTERVAL=SNAPSHOT_INTERVAL,
            LEDGER_MINIMUM_QUANTITY=1,
        )
    )
    try:
        # Also in each child: a migration added to the working tree since the run began
        # would otherwise make the ledger refuse to start ("not migrated").
        container.migrate()
        yield container
    finally:
        container.close()


def child_read(url: str) -> dict[str, Any]:
    """The baseline: page the whole log and decode every event, nothing else."""
    with container_for(url) as container:
        reader = LogReader(container.ledger, batch_size=READ_BATCH)
        rss_before = current_rss_mb()
        started = time.perf_counter()
        count = sum(len(batch) for batch in reader.batches(None))
        seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds, "rss_before_mb": rss_before}


def child_read_decided(url: str) -> dict[str, Any]:
    """The second baseline: read and decode only what the replay reads (the topics some
    read model decides about, found as the rebuild finds them), nothing else."""
    with container_for(url) as container:
        ledger = container.ledger
        reader = LogReader(ledger, batch_size=READ_BATCH)
        models = build_read_models(container.database, minimum_quantity=1)
        rss_before = current_rss_mb()
        started = time.perf_counter()
        stop = ledger.recorder.max_notification_id() or 0
        stored = reader.stored_topics(container.database)
        topics = decided_topics(stored, decided_classes(models))
        count = sum(len(batch) for batch, _through in reader.scan(0, stop, topics))
        seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds, "rss_before_mb": rss_before, "log": stop}


class Quarters:
    """Replay progress on stderr, at each quarter of the log."""

    def __init__(self, name: str, total: int) -> None:
        self.name = name
        self.total = total
        self.next = total // 4

    def __call__(self, count: int, position: int) -> None:
        if position >= self.next:
            console.print(f"    {self.name}: {position:,}/{self.total:,} ({count:,} events read)")
            self.next += max(self.total // 4, 1)


def child_replay(url: str) -> dict[str, Any]:
    """Rebuild every read model from position 0 in one pass over the log, then swap
    them all in (what `ledger replay` does)."""
    with container_for(url) as container:
        ledger = container.ledger
        total = ledger.recorder.max_notification_id() or 0
        rss_before = current_rss_mb()
        started = time.perf_counter()
        replay(
            ledger,
            container.database,
            list(READ_MODELS),
            minimum_quantity=1,
            progress=Quarters("all read models", total),
        )
        seconds = {"all read models, one pass": time.perf_counter() - started}
    return {"events": total, "seconds": seconds, "rss_before_mb": rss_before}


def child_as_of(url: str) -> dict[str, Any]:
    """``get_as_of`` at random instants of the long organizer, on a production-like app."""
    env = eventsourcing_env(load_settings(LEDGER_DATABASE_URL=url).database, snapshot_interval=100)
    ledger = LedgerApplication(env)  # no aggregate cache, as in production
    reads = {"events": 0, "snapshots": 0, "queries": 0}
    count_reads(ledger.events.recorder, reads, "events")
    if ledger.snapshots is not None:
        count_reads(ledger.snapshots.recorder, reads, "snapshots")
    try:
        current = ledger.get(AS_OF_ORGANIZER)
        first, last = current.created_on, current.modified_on
        rnd = random.Random(11)
        instants = [first + (last - first) * rnd.random() for _ in range(AS_OF_SAMPLES)]
        for instant in instants[:10]:  # warm the pool and the prepared statements
            ledger.get_as_of(AS_OF_ORGANIZER, instant)
        reads.update(events=0, snapshots=0, queries=0)
        as_of = timed(lambda i: ledger.get_as_of(AS_OF_ORGANIZER, instants[i]), len(instants))
        per_query = dict(reads)
        # get_as_of's first step, alone: loading the organizer's current state.
        current_load = timed(lambda _i: ledger.find(AS_OF_ORGANIZER), 50)
        snapshots = snapshot_sizes(ledger)
    finally:
        ledger.close()
    return {
        "events": current.version,
        "latencies_s": as_of,
        "current_load_s": current_load,
        "reads": per_query,
        "snapshots": snapshots,
    }


def timed(call: Callable[[int], object], times: int) -> list[float]:
    latencies = []
    for index in range(times):
        started = time.perf_counter()
        call(index)
        latencies.append(time.perf_counter() - started)
    return latencies


def count_reads(recorder: Any, into: dict[str, int], kind: str) -> None:
    """Count the rows an as-of query reads (to show it replays from snapshots)."""
    select = recorder.select_events

    def counting(*args: Any, **kwargs: Any) -> Any:
        rows = select(*args, **kwargs)
        into[kind] += len(rows)
        into["queries"] += 1
        return rows

    vars(recorder)["select_events"] = counting


def snapshot_sizes(ledger: LedgerApplication) -> list[int]:
    if ledger.snapshots is None:
        return []
    rows = ledger.snapshots.recorder.select_events(organizer_uuid(AS_OF_ORGANIZER))
    return [len(row.state) for row in rows]


CHILDREN: dict[str, Callable[[str], dict[str, Any]]] = {
    "read": child_read,
    "read-decided": child_read_decided,
    "replay": child_replay,
    "as-of": child_as_of,
}


def run_child(mode: str, url: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its peak RSS is its own."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--database-url", url],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=3600,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def child_main(mode: str, url: str) -> None:
    result = CHILDREN[mode](url)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


# -- the run --------------------------------------------------------------------------


@dataclass
class Stage:
    """What the read and replay children measured at one history length."""

    read: dict[str, Any]
    decided: dict[str, Any]
    replay: dict[str, Any]

    @property
    def events(self) -> int:
        return int(self.read["events"])

    @property
    def read_rate(self) -> float:
        return self.events / float(self.read["seconds"])

    @property
    def decided_rate(self) -> float:
        """The second baseline, as a rate over the WHOLE log (it reads a part of it in
        its time), so that it compares with the replay's rate as the first one does."""
        return self.events / float(self.decided["seconds"])

    @property
    def replay_seconds(self) -> float:
        return sum(float(s) for s in self.replay["seconds"].values())

    @property
    def replay_rate(self) -> float:
        return int(self.replay["events"]) / self.replay_seconds


def measure_stage(url: str, label: str) -> Stage:
    console.print(f"[bold]{label}[/]: raw read-and-decode of the log …")
    read = run_child("read", url)
    console.print(f"  {read['events']:,} events in {read['seconds']:.1f} s")
    console.print(f"[bold]{label}[/]: raw read-and-decode of the topics the replay reads …")
    decided = run_child("read-decided", url)
    console.print(f"  {decided['events']:,} events in {decided['seconds']:.1f} s")
    console.print(f"[bold]{label}[/]: replay of {', '.join(READ_MODELS)} …")
    replayed = run_child("replay", url)
    console.print(
        f"  {sum(replayed['seconds'].values()):.1f} s, peak RSS {replayed['peak_rss_mb']:.0f} MB"
    )
    return Stage(read, decided, replayed)


@contextmanager
def fresh_schema(server_url: str, *, keep: bool) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(server_url, schema)
    finally:
        if keep:
            console.print(f"kept schema {schema}")
        else:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def run(args: argparse.Namespace) -> None:
    plan = plan_histories(args.events, args.organizers)
    quarter = quarter_split(plan, args.events // 4)
    started = time.perf_counter()
    with fresh_schema(args.database_url, keep=args.keep) as url, container_for(url) as container:
        done = Generated()
        console.print(f"[bold]generating[/] {args.events:,} events for {len(plan):,} organizers")
        generate(container.ledger, plan[:quarter], done, seed=1)
        small = measure_stage(url, "quarter history")
        console.print("[bold]generating[/] the rest")
        generate(container.ledger, plan[quarter:], done, seed=2)
        full = measure_stage(url, "full history")
        console.print("[bold]as_of[/]: 200 instants on the 10,000-event organizer …")
        as_of = run_child("as-of", url)
        store = describe_store(container, plan)
        report(
            args,
            store=store,
            done=done,
            small=small,
            full=full,
            as_of=as_of,
            wall_s=time.perf_counter() - started,
        )


CHURN = ("GroupActivated", "GroupDeactivated", "GroupChangeReaffirmed", "StaleGroupChangeIgnored")


def describe_store(container: Container, plan: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """What was generated, read back: the event mix and the snapshots taken on save."""
    with container.database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT topic, count(*) AS n FROM renewalledger_events GROUP BY topic"
        ).fetchall()
        snapshots = cursor.execute("SELECT count(*) AS n FROM renewalledger_snapshots").fetchone()
    by_kind = {str(row["topic"]).rpartition(".")[2]: int(row["n"]) for row in rows}
    return {
        "churn_share": sum(by_kind.get(kind, 0) for kind in CHURN) / sum(by_kind.values()),
        "kinds": len(by_kind),
        "snapshots": int(snapshots["n"]) if snapshots else 0,
        "expected_snapshots": sum(target // SNAPSHOT_INTERVAL for _key, target in plan),
    }


def quarter_split(plan: Sequence[tuple[str, int]], events: int) -> int:
    """How many organizers (from the start of the plan) hold a quarter of the events."""
    total = 0
    for index, (_key, target) in enumerate(plan):
        total += target
        if total >= events:
            return index + 1
    return len(plan)


# -- the report -----------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "[green]PASS[/]" if ok else "[red]MISS[/]"


def report(
    args: argparse.Namespace,
    *,
    store: dict[str, Any],
    done: Generated,
    small: Stage,
    full: Stage,
    as_of: dict[str, Any],
    wall_s: float,
) -> None:
    table = Table(
        title=f"Replay benchmark — {full.events:,} events, {args.organizers:,} organizers"
    )
    for column in ("figure", "measured", "baseline / target", "verdict"):
        table.add_column(column)
    table.add_row(
        "generation (domain + save + snapshots)",
        f"{done.events / done.seconds:,.0f} events/s ({done.seconds:.0f} s)",
        "—",
        "",
    )
    table.add_row(
        "generated history",
        f"{store['churn_share']:.0%} group churn, {store['kinds']} event kinds;"
        f" {store['snapshots']:,} snapshots",
        f"~70% churn; {store['expected_snapshots']:,} snapshots (one per 100 versions)",
        "",
    )
    for stage, label in ((small, "quarter"), (full, "full")):
        add_stage_rows(table, stage, label)
    rss_ok = max(small.replay["peak_rss_mb"], full.replay["peak_rss_mb"]) < RSS_TARGET_MB
    table.add_row(
        "replay peak RSS growth, quarter → full",
        f"{full.replay['peak_rss_mb'] - small.replay['peak_rss_mb']:+.0f} MB"
        f" for {full.events / small.events:.1f}x the events",
        f"< {RSS_TARGET_MB:.0f} MB at any length",
        verdict(rss_ok),
    )
    add_as_of_rows(table, as_of)
    Console(width=160).print(table)
    print(f"total wall time {wall_s / 60:.1f} min")


def add_stage_rows(table: Table, stage: Stage, label: str) -> None:
    n = f"{stage.events:,} events"
    table.add_row(
        f"{label}: raw read-and-decode ({n})",
        f"{stage.read_rate:,.0f} events/s",
        "baseline (the target's)",
        "",
    )
    table.add_row(
        f"{label}: raw read-and-decode of the replay's topics",
        f"{stage.decided_rate:,.0f} log events/s ({stage.decided['events']:,} read"
        f" in {float(stage.decided['seconds']):.1f} s)",
        "second baseline: what the replay reads, nothing else",
        "",
    )
    for name, seconds in stage.replay["seconds"].items():
        table.add_row(
            f"{label}:   replay {name}", f"{stage.events / seconds:,.0f} events/s", "", ""
        )
    ratio = stage.replay_rate / stage.read_rate
    table.add_row(
        f"{label}: replay, all read models",
        f"{stage.replay_rate:,.0f} events/s ({stage.replay_seconds:.0f} s)",
        f"≥ {RATIO_TARGET * stage.read_rate:,.0f} events/s",
        "",
    )
    table.add_row(
        f"{label}: replay / raw read",
        f"{ratio:.3f}",
        f"≥ {RATIO_TARGET}",
        verdict(ratio >= RATIO_TARGET),
    )
    table.add_row(
        f"{label}: replay / raw read of the replay's topics",
        f"{stage.replay_rate / stage.decided_rate:.3f}",
        "the gain that is not from reading less",
        "",
    )
    reads_s = float(stage.decided["seconds"]) * stage.replay["events"] / stage.events
    table.add_row(
        f"{label}:   of which reading the log (est.)",
        f"1 x raw read of its topics ≈ {reads_s:.1f} s = {reads_s / stage.replay_seconds:.0%}",
        "one pass: each event it reads is read and decoded once for all read models",
        "",
    )
    peak = stage.replay["peak_rss_mb"]
    table.add_row(
        f"{label}: replay peak RSS",
        f"{peak:.0f} MB (after setup {stage.replay['rss_before_mb']:.0f} MB;"
        f" raw read peak {stage.read['peak_rss_mb']:.0f} MB)",
        f"< {RSS_TARGET_MB:.0f} MB",
        verdict(peak < RSS_TARGET_MB),
    )


def add_as_of_rows(table: Table, as_of: dict[str, Any]) -> None:
    latencies_ms = [s * 1000 for s in as_of["latencies_s"]]
    cuts = quantiles(latencies_ms, n=100, method="inclusive")
    p50, p99 = cuts[49], cuts[98]
    reads = as_of["reads"]
    samples = len(latencies_ms)
    sizes = as_of["snapshots"]
    table.add_row(
        f"as_of p50 ({as_of['events']:,}-event organizer, {samples} instants)",
        f"{p50:.1f} ms",
        f"≤ {P50_TARGET_MS:.0f} ms",
        verdict(p50 <= P50_TARGET_MS),
    )
    table.add_row("as_of p99", f"{p99:.1f} ms (max {max(latencies_ms):.1f})", "—", "")
    current_ms = sorted(s * 1000 for s in as_of["current_load_s"])
    table.add_row(
        "  of which: loading the current organizer (p50)",
        f"{current_ms[len(current_ms) // 2]:.1f} ms",
        "get_as_of's first step, timed alone",
        "",
    )
    table.add_row(
        "as_of reads per query",
        f"{reads['queries'] / samples:.1f} queries, {reads['events'] / samples:.1f} events,"
        f" {reads['snapshots'] / samples:.1f} snapshots",
        f"events ≤ ~{AS_OF_EVENTS.bit_length() + SNAPSHOT_INTERVAL} if served from snapshots",
        "",
    )
    if sizes:
        table.add_row(
            "as_of organizer snapshots",
            f"{len(sizes)} stored; state {sizes[0] / 1024:.0f} KB (first) →"
            f" {sizes[-1] / 1024:.0f} KB (last)",
            "",
            "",
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--organizers", type=int, default=2000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL server (a fresh bench_<hex> schema is created in it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.database_url)
    else:
        run(args)


if __name__ == "__main__":
    main()
