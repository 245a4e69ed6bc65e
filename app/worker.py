"""``ledger worker``: the long-running loops behind the HTTP edge.

Supervised loops run side by side: the Stripe inbox translation, the read-model
projections (catch up from their positions, then follow the log), the renewal process
manager's reactions, and its scheduler + Stripe sender. A loop that loses its database
restarts with backoff. On PostgreSQL only the elected leader runs them (see
``app/leadership.py``). SIGTERM/SIGINT set one stop flag: each loop finishes its row or
batch (rows and position commit together, so nothing is lost or repeated), exit 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.persistence.database import StoreUnavailableError
from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container, NotReadyError
from app.intake.stripe_inbox import InboxProcessor
from app.leadership import Leadership
from app.process.manager import RenewalReactor, RenewalScheduler, SyncSender
from projections.runner import Follower, LogReader, build_read_models

log = logging.getLogger("ledger.worker")
TRANSIENT = (StoreUnavailableError, OperationalError, InterfaceError, NotReadyError)
MAX_BACKOFF_S = 30.0


class Worker:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.stop = threading.Event()
        self.leadership = Leadership(container.settings.database)
        self.loops: dict[str, Callable[[], None]] = {
            "inbox": self.run_inbox,
            "projections": self.run_projections,
            "reactions": self.run_reactions,
            "renewals": self.run_renewals,
            "reconcile": self.run_reconcile,
        }

    def run(self) -> int:
        """Wait for leadership, then run every loop until stopped. Returns the exit code."""
        log.info("worker started on %s", self.container.settings.database.redacted)
        if not self.leadership.acquire(self.stop):
            return 0
        threads = [
            threading.Thread(target=self.supervise, args=(name, loop), name=f"worker-{name}")
            for name, loop in self.loops.items()
        ]
        for thread in threads:
            thread.start()
        try:
            while not self.stop.wait(0.5):
                pass
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()
            self.leadership.release()
        log.info("worker stopped")
        return 1 if self.leadership.lost.is_set() else 0

    def supervise(self, name: str, loop: Callable[[], None]) -> None:
        """Run ``loop`` until stopped; restart it after failures, backing off."""
        backoff = 0.5
        while not self.stop.is_set():
            try:
                loop()
                backoff = 0.5
            except TRANSIENT as error:
                log.warning("%s: store unavailable (%s); restarting in %.1fs", name, error, backoff)
            except Exception:
                log.exception("%s: unexpected error; restarting in %.1fs", name, backoff)
            else:
                continue
            self.stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def run_inbox(self) -> None:
        processor = InboxProcessor(self.container.ledger, StripeInbox(self.container.database))
        poll = self.container.settings.worker_poll_s
        while not self.stop.is_set():
            if processor.process_pending(stop=self.stop) == 0:
                self.stop.wait(poll)

    def run_projections(self) -> None:
        settings = self.container.settings
        models = build_read_models(
            self.container.database, minimum_quantity=settings.minimum_quantity
        )
        reader = LogReader(self.container.ledger, settings.projection_batch_size)
        Follower(reader, models, poll_s=settings.worker_poll_s).run(self.stop)

    def reactor(self) -> RenewalReactor:
        container = self.container
        return RenewalReactor(container.database, container.ledger, container.renewal_policy())

    def run_reactions(self) -> None:
        settings = self.container.settings
        reader = LogReader(self.container.ledger, settings.projection_batch_size)
        Follower(reader, [self.reactor()], poll_s=settings.worker_poll_s).run(self.stop)

    def run_renewals(self) -> None:
        """Scheduled checks, then sending due syncs — each pass, until stopped."""
        container = self.container
        scheduler = RenewalScheduler(container.database, self.reactor())
        gateway = container.stripe_gateway()
        if gateway is None:
            log.warning("no STRIPE_API_KEY: quantity syncs are decided and recorded, not sent")
        sender = (
            None
            if gateway is None
            else SyncSender(
                container.database,
                container.ledger,
                gateway,
                container.renewal_policy(),
                concurrency=container.settings.stripe_max_concurrency,
            )
        )
        try:
            while not self.stop.is_set():
                scheduler.run_once()
                sent = sender.run_once() if sender is not None else 0
                if sent == 0:
                    self.stop.wait(container.settings.worker_poll_s)
        finally:
            if sender is not None:
                sender.close()
            if gateway is not None:
                gateway.close()

    def run_reconcile(self) -> None:
        """Every ``LEDGER_RECONCILE_EVERY`` (off by default), ``ledger reconcile --fix``
        minus the sending: differences become recorded facts, and the reactions and
        renewals loops turn each drift into a quantity sync (docs/reconciliation.md)."""
        from adapters.stripe.gateway import StripeCallError
        from app.process.reconcile import Reconciliation
        from app.process.reconcile_fixes import record_fixes

        container = self.container
        every = container.settings.reconcile_every
        gateway = None if every is None else container.stripe_gateway()
        if every is None or gateway is None:
            if every is not None:
                log.warning("LEDGER_RECONCILE_EVERY is set without STRIPE_API_KEY: not reconciling")
            self.stop.wait()  # returning would only make supervise() start this loop again
            return
        minimum = container.settings.minimum_quantity
        try:
            # The first run waits one interval, so a crash-looping worker never hammers Stripe.
            while not self.stop.wait(every.total_seconds()):
                run = Reconciliation(
                    container.database, container.ledger, gateway, minimum_quantity=minimum
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
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
