"""A renewal-day burst on the Stripe double: many subscriptions, one organizer each, all
of their quantity syncs due at once. Shared by ``benchmarks/renewal_burst.py``,
``benchmarks/failover.py`` and ``tests/e2e/test_failover.py``.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from app.services.ledger import LedgerApplication
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from tests.support.processes import LEDGER, free_port, ledger_env

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_test_double"
SETUP_THREADS = 8
SAVE_ORGANIZERS = 500  # organizers per ledger.save(): one transaction (and table lock) each


@dataclass(frozen=True)
class Seeded:
    """One subscription created on the double, and the groups its organizer has."""

    organizer_id: str
    subscription_id: str
    item_id: str
    price_id: str
    period_start: int
    period_end: int
    groups: int


@dataclass(frozen=True)
class DoubleProcess:
    base_url: str
    pid: int

    def cpu_s(self) -> float:
        """CPU seconds the double's process has used so far (user + system)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def double_process() -> Iterator[DoubleProcess]:
    """``ledger dev stripe`` on a free loopback port, its own process (its own GIL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log_file:
        process = subprocess.Popen(  # our own interpreter and module, fixed arguments
            [*LEDGER, "dev", "stripe", "--port", str(port)],
            cwd=ROOT,
            env=ledger_env(),
            stdout=subprocess.DEVNULL,  # an access-log line per request: not worth keeping
            stderr=log_file,
        )
        try:
            wait_until_up(base, process, log_file)
            yield DoubleProcess(base, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_up(base: str, process: subprocess.Popen[bytes], log_file: Any) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_file.seek(0)
            msg = f"the double exited with {process.returncode}: {log_file.read().decode()}"
            raise RuntimeError(msg)
        try:
            httpx.get(f"{base}/_double/config", timeout=1).raise_for_status()
            return
        except httpx.TransportError:
            time.sleep(0.1)
    msg = "the double did not start within 30 s"
    raise RuntimeError(msg)


def seed_stripe(base: str, count: int) -> list[Seeded]:
    """A price, then ``count`` customers with one subscription (quantity 1) each.

    Plain form POSTs from a thread pool: it is setup, and the SDK's per-request work
    would double the time the client spends.
    """
    with httpx.Client(base_url=base, timeout=30) as admin:
        admin.post("/_double/config", json={"quantity_updates_per_hour": None}).raise_for_status()
        seeded = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"})
        price = str(seeded.raise_for_status().json()["price"])
    rnd = random.Random(7)
    groups = [rnd.randint(2, 5) for _ in range(count)]
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                base_url=base, timeout=30, headers={"Authorization": f"Bearer {API_KEY}"}
            )
            with lock:
                clients.append(local.client)
        found: httpx.Client = local.client
        return found

    def create(index: int) -> Seeded:
        http = client()
        customer = http.post("/v1/customers", data={"email": f"org{index}@example.com"})
        subscription = http.post(
            "/v1/subscriptions",
            data={
                "customer": customer.raise_for_status().json()["id"],
                "items[0][price]": price,
                "items[0][quantity]": "1",
            },
        )
        body = subscription.raise_for_status().json()
        item = body["items"]["data"][0]
        return Seeded(
            organizer_id=f"burst-org-{index:05d}",
            subscription_id=str(body["id"]),
            item_id=str(item["id"]),
            price_id=price,
            period_start=int(item["current_period_start"]),
            period_end=int(item["current_period_end"]),
            groups=groups[index],
        )

    try:
        with ThreadPoolExecutor(SETUP_THREADS, thread_name_prefix="seed") as pool:
            return list(pool.map(create, range(count)))
    finally:
        for http in clients:
            http.close()


def seed_ledger(ledger: LedgerApplication, subscriptions: Sequence[Seeded]) -> None:
    """Organizers with their snapshot and groups, then every renewal upcoming at once.

    Built in memory through the real commands and saved many organizers per
    ``ledger.save`` (one transaction each), as ``tests/support/histories.seed_bulk`` does.
    """
    organizers = seed_organizers(ledger, subscriptions)
    seed_upcoming(ledger, organizers, subscriptions)


def seed_organizers(ledger: LedgerApplication, subscriptions: Sequence[Seeded]) -> list[Organizer]:
    """The history before renewal day: each organizer with its snapshot and groups."""
    now = ledger.clock()
    organizers = [build_organizer(s, now) for s in subscriptions]
    save_in_chunks(ledger, organizers)
    return organizers


def seed_upcoming(
    ledger: LedgerApplication, organizers: Sequence[Organizer], subscriptions: Sequence[Seeded]
) -> None:
    """Then Stripe's invoice.upcoming for everyone: the renewal-day burst."""
    upcoming_at = ledger.clock()
    for organizer, seeded in zip(organizers, subscriptions, strict=True):
        organizer.note_renewal_upcoming(
            subscription_id=seeded.subscription_id,
            period_end=datetime.fromtimestamp(seeded.period_end, tz=UTC),
            expected_quantity=1,
            expected_amount=500,
            currency="eur",
            source=f"evt_upcoming_{seeded.organizer_id}",
            at=upcoming_at,
        )
    save_in_chunks(ledger, organizers)


def build_organizer(seeded: Seeded, now: datetime) -> Organizer:
    organizer = Organizer.register(seeded.organizer_id, at=now)
    snapshot = SubscriptionSnapshot(
        subscription_id=seeded.subscription_id,
        item_id=seeded.item_id,
        price_id=seeded.price_id,
        status="active",
        quantity=1,
        current_period_start=datetime.fromtimestamp(seeded.period_start, tz=UTC),
        current_period_end=datetime.fromtimestamp(seeded.period_end, tz=UTC),
        observed_at=now,
    )
    organizer.observe_subscription(snapshot, source=f"evt_sub_{seeded.organizer_id}", at=now)
    for group in range(seeded.groups):
        organizer.change_group(
            action=GroupAction.ACTIVATED,
            group_id=f"g{group}",
            change_id=f"chg-{seeded.organizer_id}-{group}",
            occurred_at=now - timedelta(minutes=5),
            at=now,
        )
    return organizer


def save_in_chunks(ledger: LedgerApplication, organizers: Sequence[Organizer]) -> None:
    for start in range(0, len(organizers), SAVE_ORGANIZERS):
        ledger.save(*organizers[start : start + SAVE_ORGANIZERS])
