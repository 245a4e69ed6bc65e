"""``ledger worker``: the long-running loop behind the HTTP edge.

It translates the Stripe inbox (and, as later issues land, runs projections and the
process manager). It restarts its loop after a lost database connection and stops
cleanly on SIGTERM/SIGINT: the current row finishes, nothing is left half-done.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.persistence.database import StoreUnavailableError
from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container, NotReadyError
from app.intake.stripe_inbox import InboxProcessor

log = logging.getLogger("ledger.worker")
TRANSIENT = (StoreUnavailableError, OperationalError, InterfaceError, NotReadyError)
MAX_BACKOFF_S = 30.0


class Worker:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.stop = threading.Event()

    def run(self) -> None:
        """Loop until stopped; transient store failures back off and retry."""
        backoff = 0.5
        processor: InboxProcessor | None = None
        log.info("worker started on %s", self.container.settings.database.redacted)
        while not self.stop.is_set():
            try:
                if processor is None:
                    processor = InboxProcessor(
                        self.container.ledger, StripeInbox(self.container.database)
                    )
                handled = processor.process_pending(stop=self.stop)
            except TRANSIENT as error:
                log.warning("store unavailable (%s); retrying in %.1fs", error, backoff)
                processor = None
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = 0.5
            if handled == 0:
                self.stop.wait(self.container.settings.worker_poll_s)
        log.info("worker stopped")

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, _: FrameType | None) -> None:
            log.info("received %s: finishing the current batch", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
