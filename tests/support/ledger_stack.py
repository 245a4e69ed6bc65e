"""The whole ledger as real processes for end-to-end renewal tests.

`ledger dev stripe` (the Stripe double), `ledger serve` and `ledger worker` over loopback,
on a fresh PostgreSQL schema; the double's webhooks go to the server. Tests drive the
platform's group changes over HTTP, the double's test clocks through the SDK, and stop or
start the worker at will.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from adapters.persistence.database import open_database, parse_database_url
from adapters.stripe.translate import HANDLED_EVENT_TYPES
from stripe_double import sdk_client
from tests.support.processes import (
    LEDGER,
    free_port,
    ledger_env,
    ledger_server,
    ledger_worker,
    run_ledger,
    wait_for,
)

SERVICE_TOKEN = "renewal-e2e-service-token"


@contextmanager
def stripe_double(workdir: Path) -> Iterator[str]:
    """`ledger dev stripe` on a free port; yields its base URL once it answers."""
    port = free_port()
    with (workdir / "double.log").open("w") as log:
        process = subprocess.Popen(
            [*LEDGER, "dev", "stripe", "--port", str(port)],
            cwd=workdir,
            env=ledger_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _up(base), what="the Stripe double")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/_double/config", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def query(url: str, sql: str) -> list[dict[str, Any]]:
    """Rows of one SQL query on the ledger's database."""
    database = open_database(parse_database_url(url))
    try:
        with database.transaction() as cursor:
            return [dict(r) for r in cursor.execute(sql).fetchall()]
    finally:
        database.close()


class LedgerStack:
    """Double, server and worker; `stop_worker` / `start_worker` take the worker away."""

    def __init__(self, stack: ExitStack, workdir: Path, url: str, *, unit_amount: int) -> None:
        self.stack = stack
        self.workdir = workdir
        self.url = url
        self.double = stack.enter_context(stripe_double(workdir))
        self.admin = stack.enter_context(httpx.Client(base_url=self.double, timeout=120))
        self.stripe = stack.enter_context(sdk_client(self.double))
        self.unit_amount = unit_amount
        self.env = {
            "LEDGER_DATABASE_URL": url,
            "LEDGER_SERVICE_TOKEN": SERVICE_TOKEN,
            "STRIPE_API_KEY": "sk_test_double",
            "STRIPE_API_BASE": self.double,
            "STRIPE_MAX_RPS": "200",
            "STRIPE_MAX_CONCURRENCY": "8",
            "LEDGER_SYNC_RETRY_BASE": "0.2s",
            "LEDGER_WORKER_POLL_S": "0.1",
            "LEDGER_LOG_LEVEL": "warning",
        }
        self._worker: ExitStack | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.workers = 0

    def start(self, *, interval: str = "day", config: dict[str, Any] | None = None) -> None:
        """Migrate, seed the per-group price, configure the double, register the webhook
        endpoint, start the server and the worker."""
        migrated = run_ledger("migrate", cwd=self.workdir, env=self.env)
        if migrated.returncode != 0:
            raise RuntimeError(migrated.stdout + migrated.stderr)
        seeded = self.admin.post(
            "/_double/seed",
            json={"unit_amount": self.unit_amount, "currency": "eur", "interval": interval},
        ).json()
        self.price = str(seeded["price"])
        self.env["STRIPE_PRICE_ID"] = self.price
        if config:
            self.configure(**config)
        port = free_port()
        params: Any = {
            "url": f"http://127.0.0.1:{port}/webhooks/stripe",
            "enabled_events": sorted(HANDLED_EVENT_TYPES),
        }
        secret = str(self.stripe.v1.webhook_endpoints.create(params=params)["secret"])
        self.env["STRIPE_WEBHOOK_SECRET"] = secret
        self.base = self.stack.enter_context(
            ledger_server(cwd=self.workdir, env=self.env, port=port)
        )
        self.start_worker()

    def configure(self, **changes: Any) -> None:
        self.admin.post("/_double/config", json=changes).raise_for_status()

    # -- the worker ----------------------------------------------------------------------

    def start_worker(self) -> None:
        if self._worker is not None:
            return
        self.workers += 1
        worker = ExitStack()
        log = self.workdir / f"worker-{self.workers}.log"
        self.worker = worker.enter_context(ledger_worker(cwd=self.workdir, env=self.env, log=log))
        self._worker = worker
        self.stack.callback(self.stop_worker)

    def kill_worker(self) -> None:
        """SIGKILL (a crash) and start a new one."""
        if self.worker is not None:
            self.worker.send_signal(signal.SIGKILL)
            self.worker.wait(timeout=20)
        self.stop_worker()
        self.start_worker()

    def stop_worker(self) -> None:
        """SIGTERM, as Kubernetes stops it; its work stays in the database."""
        worker, self._worker = self._worker, None
        self.worker = None
        if worker is not None:
            worker.close()

    # -- waiting -------------------------------------------------------------------------

    def count(self, sql: str) -> int:
        return int(query(self.url, sql)[0]["n"] or 0)

    def flush(self) -> None:
        """Every webhook delivered (and acknowledged drafts scheduled)."""
        self.admin.post("/_double/webhooks/flush", json={"timeout": 120}).raise_for_status()

    def caught_up(self) -> bool:
        """Every delivery taken in and every read model at the last event."""
        inbox = self.count("SELECT COUNT(*) AS n FROM stripe_inbox WHERE status = 'pending'")
        behind = query(
            self.url,
            "SELECT MIN(notification_id) AS low FROM read_model_tracking"
            " WHERE projection IN ('renewals', 'syncs', 'corrections', 'process_manager')",
        )[0]["low"]
        last = self.count("SELECT MAX(notification_id) AS n FROM renewalledger_events")
        return inbox == 0 and behind == last

    def _quiet(self) -> bool:
        open_work = self.count(
            "SELECT (SELECT COUNT(*) FROM rm_quantity_syncs WHERE status IN"
            " ('pending', 'retrying')) + (SELECT COUNT(*) FROM rm_billing_corrections"
            " WHERE status IN ('pending', 'retrying')) AS n"
        )
        return open_work == 0 and self.caught_up()

    def settle(self, *, timeout: float = 120) -> None:
        """Deliveries in, read models caught up, no sync or correction left to send; twice
        in a row, since the ledger's own Stripe calls cause more webhooks."""
        for _ in range(2):
            self.flush()
            wait_for(self._quiet, timeout=timeout, what="the ledger to settle")

    def group_changes(self, changes: list[dict[str, str]]) -> None:
        """The platform reports group changes (all accepted)."""
        response = httpx.post(
            f"{self.base}/internal/group-changes",
            json={"changes": changes},
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
            timeout=120,
        )
        if response.status_code != 200 or response.json()["summary"]["rejected"]:
            raise AssertionError(response.text)

    # -- the Stripe side -----------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        logged: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        return logged

    def keys_with_several_parameter_sets(self) -> list[str]:
        """Idempotency keys the ledger sent with more than one set of parameters."""
        seen: dict[str, set[str]] = {}
        for request in self.requests():
            key = request["idempotency_key"]
            if key:
                seen.setdefault(key, set()).add(json.dumps(request["params"], sort_keys=True))
        return [key for key, sets in seen.items() if len(sets) > 1]
