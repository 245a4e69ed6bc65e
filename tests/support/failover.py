"""Two (or more) ``ledger worker`` processes on one PostgreSQL schema during a renewal
burst on the Stripe double: start them, stop the leader (SIGKILL or SIGTERM), measure the
takeover, and read from the double's request log whether any sync was applied twice.

Shared by ``tests/e2e/test_failover.py`` and ``benchmarks/failover.py``.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.stripe.translate import HANDLED_EVENT_TYPES
from app.bootstrap import Container
from app.settings import load_settings
from stripe_double import sdk_client
from tests.support.burst import API_KEY, Seeded, seed_ledger, seed_stripe
from tests.support.processes import (
    free_port,
    ledger_server,
    ledger_worker,
    run_ledger,
    wait_for,
)

QUANTITY_UPDATE = "/v1/subscription_items/"
LEADER_GAUGE = re.compile(r"^ledger_worker_leader (\S+)$", re.MULTILINE)


@dataclass
class WorkerProcess:
    """One ``ledger worker`` with its own metrics port and log."""

    name: str
    process: subprocess.Popen[bytes]
    metrics_port: int
    log: Path

    def leader_gauge(self) -> float | None:
        """``ledger_worker_leader`` on its metrics port (None: not answering)."""
        try:
            text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=1).text
        except httpx.TransportError:
            return None
        found = LEADER_GAUGE.search(text)
        return None if found is None else float(found[1])

    def leads(self) -> bool:
        return self.leader_gauge() == 1.0

    def stands_by(self) -> bool:
        return self.leader_gauge() == 0.0 and "standing by" in self.log.read_text()


@dataclass(frozen=True)
class Takeover:
    """Seconds from the signal to the leader's exit (SIGTERM: it finishes what it is
    sending), to the standby's ``ledger_worker_leader`` = 1, and to the first quantity
    update the new leader sent."""

    exited_s: float
    leads_s: float
    first_update_s: float
    pending_at_stop: int
    sent_while_stopping: int  # updates the old leader sent between the signal and its exit


@dataclass
class Cluster:
    """A migrated schema, the seeded burst, the ledger's env, and its worker processes."""

    cwd: Path
    url: str
    double: str
    env: dict[str, str]
    seeded: list[Seeded]
    workers: list[WorkerProcess] = field(default_factory=list)
    _stack: ExitStack = field(default_factory=ExitStack)

    def start_worker(self, name: str) -> WorkerProcess:
        port = free_port()
        log = self.cwd / f"{name}.log"
        env = {**self.env, "LEDGER_WORKER_METRICS_PORT": str(port)}
        process = self._stack.enter_context(ledger_worker(cwd=self.cwd, env=env, log=log))
        worker = WorkerProcess(name, process, port, log)
        self.workers.append(worker)
        return worker

    def leader_and_standby(self) -> tuple[WorkerProcess, WorkerProcess]:
        """Two workers: the first leads, the second stands by (in that order, waited)."""
        leader = self.start_worker("worker-a")
        wait_for(leader.leads, what="the first worker to lead")
        standby = self.start_worker("worker-b")
        wait_for(standby.stands_by, what="the second worker to stand by")
        return leader, standby

    def start_burst(self) -> None:
        """Every organizer's renewal upcoming at once: the leader starts syncing."""
        container = Container(load_settings(LEDGER_DATABASE_URL=self.url))
        try:
            seed_ledger(container.ledger, self.seeded)
        finally:
            container.close()

    def updates(self) -> list[dict[str, Any]]:
        """Quantity updates in the double's request log, oldest first."""
        log: list[dict[str, Any]] = httpx.get(f"{self.double}/_double/requests", timeout=30).json()
        return [e for e in log if e["method"] == "POST" and e["path"].startswith(QUANTITY_UPDATE)]

    def sync_statuses(self) -> Counter[str]:
        container = Container(load_settings(LEDGER_DATABASE_URL=self.url))
        try:
            with container.database.transaction() as cursor:
                rows = cursor.execute(
                    "SELECT status, count(*) AS n FROM rm_quantity_syncs GROUP BY status"
                ).fetchall()
        finally:
            container.close()
        return Counter({str(r["status"]): int(r["n"]) for r in rows})

    def all_confirmed(self) -> bool:
        return self.sync_statuses()["confirmed"] == len(self.seeded)

    def stop_leader(
        self, leader: WorkerProcess, standby: WorkerProcess, how: signal.Signals, *, after: int
    ) -> Takeover:
        """Once ``after`` quantity updates went out, stop the leader with ``how``; measure
        the standby's takeover."""
        wait_for(lambda: len(self.updates()) >= after, timeout=60, what=f"{after} updates")
        leader.process.send_signal(how)
        stopped = time.time()
        pending = len(self.seeded) - len(self.updates())
        # The leader holds the lock until it exits, so every update after its exit is the
        # new leader's (a SIGTERMed leader first finishes the updates it is sending).
        leader.process.wait(timeout=60)
        exited = time.time()
        wait_for(standby.leads, timeout=60, what="the standby to lead")
        leads = time.time()

        def first_new() -> float | None:
            later = [float(u["at"]) for u in self.updates() if float(u["at"]) > exited]
            return min(later) if later else None

        wait_for(lambda: first_new() is not None, timeout=60, what="the new leader's first update")
        first = first_new() or exited
        draining = [u for u in self.updates() if stopped <= float(u["at"]) <= exited]
        return Takeover(
            sent_while_stopping=len(draining),
            exited_s=exited - stopped,
            leads_s=leads - stopped,
            first_update_s=first - stopped,
            pending_at_stop=pending,
        )

    def close(self) -> None:
        self._stack.close()


def applied_twice(updates: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What the double applied more than once: a sync (``metadata[ledger_sync_id]``) with
    more than one applied request, or a subscription item set by more than one sync.
    Replays of one idempotency key are not applications (Stripe answers them from its
    store), so they are left out."""
    applied = [u for u in updates if u["status"] == 200 and not u["replayed"]]
    per_sync: dict[str, list[str]] = defaultdict(list)
    per_item: dict[str, set[str]] = defaultdict(set)
    for update in applied:
        sync_id = str(update["params"].get("metadata", {}).get("ledger_sync_id"))
        per_sync[sync_id].append(str(update["idempotency_key"]))
        per_item[update["path"]].add(sync_id)
    twice = {f"sync {s}": keys for s, keys in per_sync.items() if len(keys) > 1}
    twice |= {f"item {i}": sorted(s) for i, s in per_item.items() if len(s) > 1}
    return twice


@contextmanager
def burst_cluster(
    cwd: Path,
    url: str,
    double: str,
    *,
    organizers: int,
    max_rps: float,
    servers: int = 0,
) -> Iterator[Cluster]:
    """A migrated schema at ``url``, ``organizers`` subscriptions on the double, and (if
    ``servers``) that many ``ledger serve`` processes, each a webhook endpoint of its own
    (every event reaches every server: the inbox must keep one of each)."""
    seeded = seed_stripe(double, organizers)
    env = {
        "LEDGER_DATABASE_URL": url,
        "LEDGER_WORKER_POLL_S": "0.1",
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": double,
        "STRIPE_PRICE_ID": seeded[0].price_id,
        "STRIPE_MAX_RPS": str(max_rps),
        "STRIPE_MAX_CONCURRENCY": "4",
    }
    migrated = run_ledger("migrate", cwd=cwd, env=env)
    if migrated.returncode != 0:
        raise RuntimeError(migrated.stderr)
    cluster = Cluster(cwd=cwd, url=url, double=double, env=env, seeded=seeded)
    try:
        if servers:
            _start_servers(cluster, servers)
        yield cluster
    finally:
        cluster.close()


def _start_servers(cluster: Cluster, count: int) -> None:
    ports = [free_port() for _ in range(count)]
    secrets = []
    with sdk_client(cluster.double) as stripe:
        for port in ports:
            params: Any = {
                "url": f"http://127.0.0.1:{port}/webhooks/stripe",
                "enabled_events": sorted(HANDLED_EVENT_TYPES),
            }
            secrets.append(str(stripe.v1.webhook_endpoints.create(params=params)["secret"]))
    cluster.env["STRIPE_WEBHOOK_SECRET"] = ",".join(secrets)
    for index, port in enumerate(ports):
        log = cluster.cwd / f"server-{index}.log"
        cluster._stack.enter_context(
            ledger_server(cwd=cluster.cwd, env=cluster.env, log=log, port=port)
        )
