"""What the Stripe senders share: due work sent concurrently across organizers, in order
within one, and the retry schedule recorded with each failure.

Within one organizer requests go one after another: they are decisions on the same
aggregate (each outcome is a new version), and Stripe locks per object anyway.
"""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from uuid import UUID

from adapters.observability.logs import log_context
from app.services.ledger import LedgerApplication
from app.services.process.policy import RenewalPolicy
from domain.renewal import retry_delay_s

MAX_RETRY_DELAY = timedelta(minutes=15)


class OrganizerQueue(ABC):
    """Sends what ``due`` lists: concurrently across organizers, in order within one."""

    log_key = "sync_id"

    def __init__(
        self,
        ledger: LedgerApplication,
        policy: RenewalPolicy,
        *,
        concurrency: int = 4,
        jitter: Callable[[], float] = random.random,
        thread_name: str = "stripe-sync",
    ) -> None:
        self.ledger = ledger
        self.policy = policy
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=thread_name)
        self.jitter = jitter

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    @abstractmethod
    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(organizer uuid, work id) due now, in the order to send them."""

    @abstractmethod
    def send(self, organizer_id: UUID, work_id: str) -> bool:
        """Send one if the ledger still says it is due; True if Stripe was tried."""

    def run_once(self, limit: int = 500, *, stop: threading.Event | None = None) -> int:
        """Send everything due now (until ``stop`` is set); returns how many were attempted."""
        by_organizer: dict[str, list[str]] = defaultdict(list)
        for organizer, work_id in self.due(self.ledger.clock(), limit):
            by_organizer[organizer].append(work_id)
        futures = [
            self.pool.submit(self._send_all, UUID(organizer), work_ids, stop)
            for organizer, work_ids in by_organizer.items()
        ]
        return sum(f.result() for f in futures)

    def _send_all(
        self, organizer_id: UUID, work_ids: list[str], stop: threading.Event | None = None
    ) -> int:
        sent = 0
        for work_id in work_ids:
            if stop is not None and stop.is_set():
                # A stopping worker (SIGTERM) hands what is left to the next leader: the
                # work stays due. Sending the whole batch first (up to 500, 20 s at 25/s)
                # would hold the leader lock, and the renewals, that long.
                break
            with log_context(organizer_id=str(organizer_id), **{self.log_key: work_id}):
                sent += self.send(organizer_id, work_id)
        return sent

    def next_attempt_at(self, attempt: int, at: datetime) -> datetime:
        """When attempt ``attempt + 1`` is due: exponential backoff with jitter."""
        delay = retry_delay_s(
            attempt,
            base_s=self.policy.retry_base.total_seconds(),
            cap_s=MAX_RETRY_DELAY.total_seconds(),
            jitter=self.jitter(),
        )
        return at + timedelta(seconds=delay)
