"""``ledger worker``: the long-running loops behind the HTTP edge.

Supervised loops run side by side: the Stripe inbox translation, the read-model
projections (catch up from their positions, then follow the log), the renewal process
manager's reactions, and its scheduler + Stripe sender. A loop that loses its database
restarts with backoff. On PostgreSQL only the elected leader runs them (see
``app/entrypoints/worker/leadership.py``); a leader whose session broke steps down (its
loops finish their batch and stop, another worker may lead now) and stands for election
again, with no restart of the process. SIGTERM/SIGINT set one stop flag: each loop
finishes its row or batch (rows and position commit together, so nothing is lost or
repeated), exit 0.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from types import FrameType

from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.observability.metrics import WORKER_LEADER
from adapters.persistence.database import StoreUnavailableError
from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container
from app.entrypoints.worker.leadership import Leadership
from app.metrics import WorkerEndpoint, store_registry
from app.services.errors import NotReadyError
from app.services.intake.stripe_inbox import InboxProcessor
from app.services.prices import record_configured_price
from app.services.process.corrections import CorrectionSender
from app.services.process.manager import RenewalReactor, RenewalScheduler, SyncSender
from app.services.process.previews import RenewalPreviews
from app.services.process.sending import OrganizerQueue
from projections.follower import SENDER_QUEUES, Follower
from projections.runner import READ_MODELS, LogReader, build_read_models

log = logging.getLogger("ledger.worker")
TRANSIENT = (StoreUnavailableError, OperationalError, InterfaceError, NotReadyError)
MAX_BACKOFF_S = 30.0
IDLE_BEAT_S = 5.0  # a loop that sleeps long (reconcile: hours) still shows it is alive


class Heartbeats:
    """When each loop last showed it was alive; the liveness probe reads them."""

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        self._beats: dict[str, float] = {}
        self._lock = threading.Lock()

    def beat(self, name: str) -> None:
        with self._lock:
            self._beats[name] = time.monotonic()

    def stale(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that have not beaten within the deadline (or never)."""
        now = time.monotonic()
        with self._lock:
            return [n for n in names if now - self._beats.get(n, -math.inf) > self.deadline_s]


class Worker:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.shutdown = threading.Event()  # SIGTERM/SIGINT: the process stops
        self.stop = threading.Event()  # this term of leadership ends (or the process stops)
        self.leadership = Leadership(container.settings.database)
        self.beats = Heartbeats(container.settings.worker_liveness_s)
        self.leading = False
        self.loops: dict[str, Callable[[], None]] = {
            "inbox": self.run_inbox,
            "projections": self.run_projections,
            "queues": self.run_queues,
            "reactions": self.run_reactions,
            "renewals": self.run_renewals,
            "reconcile": self.run_reconcile,
            "backfill": self.run_backfill,
        }

    def health(self) -> tuple[bool, dict[str, object]]:
        """Liveness: a standby keeps polling the election; a leader's every loop beats.
        A loop backing off from a store outage still beats (that is no wedge)."""
        if not self.leading:
            stale = self.beats.stale(["election"])
            return not stale, {"role": "standby", "stale": stale}
        stale = self.beats.stale(self.loops)
        return not stale, {"role": "leader", "stale": stale}

    def run(self) -> int:
        """Wait for leadership, then run every loop until stopped. Returns the exit code."""
        log.info("worker started on %s", self.container.settings.database.redacted)
        endpoint = self.start_endpoint()
        WORKER_LEADER.set(0)
        try:
            return self.lead()
        finally:
            self.leading = False
            WORKER_LEADER.set(0)
            if endpoint is not None:
                endpoint.stop()

    def start_endpoint(self) -> WorkerEndpoint | None:
        """``/metrics`` and ``/healthz`` on ``LEDGER_WORKER_METRICS_PORT`` (0: none). A port
        that is taken costs the metrics, not the worker: it logs and goes on."""
        settings = self.container.settings
        if settings.worker_metrics_port == 0:
            return None
        endpoint = WorkerEndpoint(store_registry(self.container), self.health)
        try:
            port = endpoint.start(settings.worker_metrics_host, settings.worker_metrics_port)
        except OSError as error:
            log.error("worker metrics port %d unavailable: %s", settings.worker_metrics_port, error)
            return None
        log.info("worker metrics and health on port %d", port)
        return endpoint

    def lead(self) -> int:
        """Lead until stopped; a lost leader session ends the term, not the process."""
        while self.lead_one_term():
            log.warning("stepped down: the leader session broke; standing for election again")
        log.info("worker stopped")
        return 0

    def lead_one_term(self) -> bool:
        """Win the election and run every loop until stopped or the leader session breaks;
        True if it broke (the caller stands again), False once the process stops."""
        if not self.leadership.acquire(self.shutdown, on_poll=lambda: self.beats.beat("election")):
            return False
        self.stop = threading.Event()
        self.leading = True
        WORKER_LEADER.set(1)
        for name in self.loops:
            self.beats.beat(name)
        threads = [
            threading.Thread(target=self.supervise, args=(name, loop), name=f"worker-{name}")
            for name, loop in self.loops.items()
        ]
        for thread in threads:
            thread.start()
        try:
            while not (
                self.stop.wait(0.5) or self.shutdown.is_set() or self.leadership.lost.is_set()
            ):
                pass
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()
            self.leading = False
            WORKER_LEADER.set(0)
            self.leadership.release()
        return self.leadership.lost.is_set() and not self.shutdown.is_set()

    def supervise(self, name: str, loop: Callable[[], None]) -> None:
        """Run ``loop`` until stopped; restart it after failures, backing off."""
        backoff = 0.5
        while not self.stop.is_set():
            self.beats.beat(name)
            try:
                loop()
                backoff = 0.5
            except TRANSIENT as error:
                log.warning("%s: store unavailable (%s); restarting in %.1fs", name, error, backoff)
            except Exception:
                log.exception("%s: unexpected error; restarting in %.1fs", name, backoff)
            else:
                continue
            self.idle(name, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def idle(self, name: str, seconds: float) -> bool:
        """Wait ``seconds`` (or until stopped), beating for ``name`` meanwhile; True if
        stopped."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.stop.wait(min(left, IDLE_BEAT_S)):
                return True
            self.beats.beat(name)
        return self.stop.is_set()

    def run_inbox(self) -> None:
        container = self.container
        processor = InboxProcessor(
            container.ledger,
            StripeInbox(container.database),
            group_price_ids=container.group_price_ids,
            lines=container.gateway,
        )
        poll = self.container.settings.worker_poll_s
        while not self.stop.is_set():
            if processor.process_pending(stop=self.stop) == 0:
                self.stop.wait(poll)
            self.beats.beat("inbox")

    def run_projections(self) -> None:
        """Every read model but the senders' queues (``run_queues``)."""
        self._follow("projections", [n for n in READ_MODELS if n not in SENDER_QUEUES])

    def run_queues(self) -> None:
        """The read models the Stripe senders take their work from, followed on their own:
        on renewal day the due syncs never wait behind the other models' work."""
        self._follow("queues", list(SENDER_QUEUES))

    def _follow(self, loop: str, names: list[str]) -> None:
        settings = self.container.settings
        models = build_read_models(
            self.container.database, minimum_quantity=settings.minimum_quantity, names=names
        )
        reader = LogReader(self.container.ledger, settings.projection_batch_size)
        beat = partial(self.beats.beat, loop)
        Follower(reader, models, poll_s=settings.worker_poll_s, heartbeat=beat).run(self.stop)

    def reactor(self) -> RenewalReactor:
        container = self.container
        policy = container.renewal_policy()
        gateway = container.gateway
        previews = (
            None
            if gateway is None
            else RenewalPreviews(
                container.database,
                container.ledger,
                gateway,
                minimum_quantity=policy.minimum_quantity,
            )
        )
        return RenewalReactor(container.database, container.ledger, policy, previews)

    def run_reactions(self) -> None:
        settings = self.container.settings
        reader = LogReader(self.container.ledger, settings.projection_batch_size)
        beat = partial(self.beats.beat, "reactions")
        Follower(reader, [self.reactor()], poll_s=settings.worker_poll_s, heartbeat=beat).run(
            self.stop
        )

    def run_renewals(self) -> None:
        """Scheduled checks, then sending due syncs and invoice corrections — each pass,
        until stopped."""
        container = self.container
        scheduler = RenewalScheduler(container.database, self.reactor())
        gateway = container.stripe_gateway()
        if gateway is None:
            log.warning("no STRIPE_API_KEY: quantity syncs are decided and recorded, not sent")
        else:  # once per leadership: billing pages read the recorded price, never Stripe
            record_configured_price(container.ledger, gateway, container.settings.stripe_price_id)
        concurrency = container.settings.stripe_max_concurrency
        policy = container.renewal_policy()
        senders: list[OrganizerQueue] = (
            []
            if gateway is None
            else [
                SyncSender(
                    container.database, container.ledger, gateway, policy, concurrency=concurrency
                ),
                CorrectionSender(
                    container.database, container.ledger, gateway, policy, concurrency=concurrency
                ),
            ]
        )
        try:
            while not self.stop.is_set():
                scheduler.run_once()
                sent = sum(sender.run_once(stop=self.stop) for sender in senders)
                if sent == 0:
                    self.stop.wait(container.settings.worker_poll_s)
                self.beats.beat("renewals")
        finally:
            for sender in senders:
                sender.close()
            if gateway is not None:
                gateway.close()

    def run_backfill(self) -> None:
        """Once per leadership: catch up on the events Stripe kept while the ledger was
        away longer than ``LEDGER_BACKFILL_AFTER`` (app/services/stripe_account/catch_up.py)."""
        from app.services.stripe_account.catch_up import run_once

        run_once(self.container, stop=self.stop, idle=partial(self.idle, "backfill"))

    def run_reconcile(self) -> None:
        """Every ``LEDGER_RECONCILE_EVERY`` (default 6h), ``ledger reconcile --fix``
        minus the sending: differences become recorded facts, and the reactions and
        renewals loops turn each drift into a quantity sync (docs/reconciliation.md)."""
        from adapters.stripe.gateway import StripeCallError
        from app.services.process.reconcile import Reconciliation
        from app.services.process.reconcile_fixes import record_fixes

        container = self.container
        every = container.settings.reconcile_every
        gateway = None if every is None else container.stripe_gateway()
        if every is None or gateway is None:
            if every is not None:
                log.info("no STRIPE_API_KEY: not reconciling (LEDGER_RECONCILE_EVERY)")
            while not self.idle("reconcile", MAX_BACKOFF_S):
                pass  # returning would only make supervise() start this loop again
            return
        minimum = container.settings.minimum_quantity
        try:
            # The first run waits one interval, so a crash-looping worker never hammers Stripe.
            while not self.idle("reconcile", every.total_seconds()):
                run = Reconciliation(
                    container.database,
                    container.ledger,
                    gateway,
                    minimum_quantity=minimum,
                    group_price_ids=container.group_price_ids,
                )
                try:
                    differences = run.differences(run.subscriptions())
                except StripeCallError as error:  # Stripe's trouble, not ours: try next time
                    log.warning("%s: Stripe failed (%s); next run in %s", run.run_id, error, every)
                    continue
                fixed = record_fixes(
                    container.ledger, differences, run_id=run.run_id, minimum=minimum
                )
                log.info(
                    "%s: %d difference(s); facts recorded for %d organizer(s)",
                    run.run_id,
                    len(differences),
                    len(fixed),
                )
        finally:
            gateway.close()

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, _: FrameType | None) -> None:
            log.info("received %s: finishing the current batch", signal.Signals(signum).name)
            self.shutdown.set()
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
