"""Worker failover: how long a renewal burst waits when its leading worker stops.

Each run: a fresh PostgreSQL schema, the Stripe double as its own process, ``--organizers``
subscriptions whose quantity syncs all become due at once, two ``ledger worker``
processes (one leads, one stands by). Once ``--stop-after`` quantity updates went out the
leader gets SIGKILL (a crash, a lost node) or SIGTERM (a rollout), and the takeover is
timed from that instant to

- the standby's ``ledger_worker_leader`` = 1 on its metrics port (polled every 0.1 s);
- the first quantity update the new leader sends (the double's request log).

Every run also checks the outcome: all syncs confirmed, none applied twice.

Baselines measured in the same run: a **cold start** of one worker on the same burst
(spawn → leader gauge 1, spawn → first update: what a restart without a standby costs),
and, from the code, the standby's election poll interval (``Leadership.poll_s``).

    .venv/bin/python benchmarks/failover.py [--runs 5] [--organizers 80] [--max-rps 8]
        [--stop-after 12] [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make app/ and tests/support importable
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import inspect  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from functools import partial  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from app.entrypoints.worker.leadership import Leadership  # noqa: E402
from tests.support.burst import double_process  # noqa: E402
from tests.support.failover import Cluster, applied_twice, burst_cluster  # noqa: E402
from tests.support.postgres import fresh_schema  # noqa: E402
from tests.support.processes import wait_for  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
console = Console(stderr=True)


@dataclass
class Series:
    """One measured figure over the runs (seconds)."""

    name: str
    values: list[float] = field(default_factory=list)

    def cells(self) -> tuple[str, str, str]:
        if not self.values:
            return "—", "—", "0"
        return (
            f"{statistics.median(self.values):.2f} s",
            f"{max(self.values):.2f} s",
            str(len(self.values)),
        )


@dataclass
class Outcomes:
    runs: int = 0
    confirmed: int = 0
    applied_twice: int = 0
    notes: list[str] = field(default_factory=list)


@contextmanager
def one_cluster(args: argparse.Namespace) -> Iterator[Cluster]:
    with (
        tempfile.TemporaryDirectory(prefix="failover-") as folder,
        fresh_schema(args.database_url) as url,
        double_process() as double,
        burst_cluster(
            Path(folder), url, double.base_url, organizers=args.organizers, max_rps=args.max_rps
        ) as cluster,
    ):
        yield cluster


def settle(cluster: Cluster, outcomes: Outcomes) -> None:
    """Wait for the burst to finish; count what went wrong (never raise: report it)."""
    outcomes.runs += 1
    try:
        wait_for(cluster.all_confirmed, timeout=180, what="every sync confirmed")
        outcomes.confirmed += 1
    except TimeoutError:
        outcomes.notes.append(f"syncs not all confirmed: {dict(cluster.sync_statuses())}")
    twice = applied_twice(cluster.updates())
    outcomes.applied_twice += len(twice)
    if twice:
        outcomes.notes.append(f"applied twice: {twice}")


def takeover_run(
    args: argparse.Namespace,
    how: signal.Signals,
    figures: tuple[Series, Series, Series],
    out: Outcomes,
) -> None:
    exited, leads, first = figures
    with one_cluster(args) as cluster:
        leader, standby = cluster.leader_and_standby()
        cluster.start_burst()
        takeover = cluster.stop_leader(leader, standby, how, after=args.stop_after)
        leads.values.append(takeover.leads_s)
        first.values.append(takeover.first_update_s)
        exited.values.append(takeover.exited_s)
        console.print(
            f"  {how.name}: exited after {takeover.exited_s:.2f} s, standby leads after "
            f"{takeover.leads_s:.2f} s, first update after {takeover.first_update_s:.2f} s "
            f"({takeover.pending_at_stop} syncs pending)"
        )
        settle(cluster, out)


def cold_start_run(args: argparse.Namespace, leads: Series, first: Series, out: Outcomes) -> None:
    with one_cluster(args) as cluster:
        cluster.start_burst()
        spawned = time.time()
        worker = cluster.start_worker("cold")
        wait_for(worker.leads, timeout=60, what="the cold worker to lead")
        leads.values.append(time.time() - spawned)

        def first_update() -> float | None:
            sent = [float(u["at"]) for u in cluster.updates()]
            return min(sent) if sent else None

        wait_for(lambda: first_update() is not None, timeout=60, what="the first update")
        at = first_update()
        first.values.append((at or spawned) - spawned)
        console.print(f"  cold start: leads after {leads.values[-1]:.2f} s")
        settle(cluster, out)


def repeat(runs: int, label: str, action: Callable[[], None]) -> None:
    for index in range(runs):
        console.print(f"[bold]{label}[/] run {index + 1}/{runs}")
        action()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--organizers", type=int, default=80)
    parser.add_argument("--max-rps", type=float, default=8)
    parser.add_argument("--stop-after", type=int, default=12)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)

    series = {
        name: Series(name)
        for name in (
            "SIGKILL → the leader is gone",
            "SIGKILL → standby leads",
            "SIGKILL → first update by the new leader",
            "SIGTERM → the leader finished and exited",
            "SIGTERM → standby leads",
            "SIGTERM → first update by the new leader",
            "baseline: cold start → leads",
            "baseline: cold start → first update",
        )
    }
    figures = list(series.values())
    outcomes = Outcomes()
    for offset, how in ((0, signal.SIGKILL), (3, signal.SIGTERM)):
        trio = (figures[offset], figures[offset + 1], figures[offset + 2])
        repeat(
            args.runs,
            how.name,
            partial(takeover_run, args, how, trio, outcomes),
        )
    repeat(
        args.runs,
        "cold start",
        partial(cold_start_run, args, figures[6], figures[7], outcomes),
    )
    report(args, series, outcomes)
    return 0 if outcomes.applied_twice == 0 and outcomes.confirmed == outcomes.runs else 1


def report(args: argparse.Namespace, series: dict[str, Series], outcomes: Outcomes) -> None:
    poll_s = inspect.signature(Leadership.__init__).parameters["poll_s"].default
    table = Table(
        title=(
            f"Failover during a burst of {args.organizers} syncs at {args.max_rps:g} req/s "
            f"(leader stopped after {args.stop_after} updates)"
        )
    )
    for column in ("figure", "median", "max", "runs"):
        table.add_column(column)
    for item in series.values():
        table.add_row(item.name, *item.cells())
    table.add_row("baseline: the standby's election poll interval", f"{poll_s:.2f} s", "", "code")
    table.add_row("issue's bound for the takeover", "15 s", "", "")
    table.add_row(
        "runs with every sync confirmed / syncs applied twice",
        f"{outcomes.confirmed}/{outcomes.runs}",
        str(outcomes.applied_twice),
        "",
    )
    Console().print(table)
    for note in outcomes.notes:
        console.print(f"[red]{note}[/]")


if __name__ == "__main__":
    raise SystemExit(main())
