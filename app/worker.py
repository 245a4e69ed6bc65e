"""``ledger worker``: the long-running loops behind the HTTP edge.

Two supervised loops run side by side: the Stripe inbox translation and the read-model
projections (catch up from their positions, then follow the log). A loop that loses
its database connection restarts with backoff. SIGTERM/SIGINT set one stop flag: each
loop finishes its current row or batch (rows and position commit together, so nothing
is lost or repeated) and the process exits 0.
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
from projections.runner import Follower, LogReader, build_read_models

log = logging.getLogger("ledger.worker")
TRANSIENT = (StoreUnavailableError, OperationalError, InterfaceError, NotReadyError)
MAX_BACKOFF_S = 30.0


class Worker:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.stop = threading.Event()
        self.loops: dict[str, Callable[[], None]] = {
            "inbox": self.run_inbox,
            "projections": self.run_projections,
        }

    def run(self) -> None:
        """Run every loop until stopped."""
        log.info("worker started on %s", self.container.settings.database.redacted)
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
        log.info("worker stopped")

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
        follower = Follower(reader, models, poll_s=settings.worker_poll_s)
        follower.run(self.stop)

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, _: FrameType | None) -> None:
            log.info("received %s: finishing the current batch", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
