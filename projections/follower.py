"""Live read models: a ``Follower`` keeps them current until stopped (the worker's loops).

SQLite is polled; PostgreSQL is followed through the library's LISTEN/NOTIFY subscription,
drained into batches (``drain_batch``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import Notification

from adapters.persistence.database import PostgresDatabase
from projections.base import ReadModel
from projections.runner import LogReader, apply_batch, catch_up, lowest_position

# A follower woken by one new event waits this long for the ones right behind it, so a
# steady trickle of saves (the worker's inbox: ~200-400/s, one save each) is applied in
# batches, not one transaction per model per event (issue 12). It bounds how much later a
# read model shows an event: 50 ms.
LINGER_S = 0.05
# The read models the Stripe senders take their work from (due syncs and corrections):
# the worker follows them on their own, so that on renewal day the senders' queue never
# waits behind the other models' work on the log before it (issue 12: 10,000 renewal
# notices ahead of the first requested sync took the one follower ~2 s).
SENDER_QUEUES = ("syncs",)


class Follower:
    """Keeps read models current until stopped: catch up, then wait for new events."""

    def __init__(
        self,
        reader: LogReader,
        models: Sequence[ReadModel],
        *,
        poll_s: float = 0.5,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.reader = reader
        self.models = models
        self.poll_s = poll_s
        # Called after every batch and every idle wait: the worker's liveness probe.
        self.heartbeat = heartbeat or (lambda: None)

    def run(self, stop: threading.Event) -> None:
        self._catch_up(stop)
        if isinstance(self.models[0].view.database, PostgresDatabase):
            self._follow_notifications(stop)
        else:
            self._poll(stop)

    def _catch_up(self, stop: threading.Event) -> None:
        catch_up(self.reader, self.models, stop=stop, progress=lambda _n, _p: self.heartbeat())
        self.heartbeat()

    def _poll(self, stop: threading.Event) -> None:
        while not stop.wait(self.poll_s):
            self._catch_up(stop)

    def _follow_notifications(self, stop: threading.Event) -> None:
        """PostgreSQL: the library's LISTEN/NOTIFY subscription, drained into batches."""
        position = lowest_position(self.models)
        pending: queue.Queue[Notification | BaseException] = queue.Queue(
            maxsize=self.reader.batch_size * 4
        )
        with self.reader.app.recorder.subscribe(gt=position) as subscription:
            feeder = threading.Thread(
                target=_feed,
                args=(subscription, pending, stop),
                name="projection-feed",
                daemon=True,
            )
            feeder.start()
            try:
                while not stop.is_set():
                    batch = drain_batch(pending, self.reader.batch_size, self.poll_s)
                    if batch:
                        apply_batch(self.models, self.reader.decode(batch))
                    self.heartbeat()
            finally:
                subscription.stop()
                feeder.join(timeout=5)


def _feed(
    subscription: Iterator[Notification], into: queue.Queue[Any], stop: threading.Event
) -> None:
    try:
        for notification in subscription:
            while not stop.is_set():
                try:
                    into.put(notification, timeout=0.2)
                    break
                except queue.Full:
                    continue
    except BaseException as error:  # surfaced to the applying thread
        into.put(error)


def drain_batch(
    pending: queue.Queue[Any], limit: int, wait_s: float, linger_s: float = LINGER_S
) -> list[Notification]:
    """The next batch: the first notification within ``wait_s``, then whatever follows
    it within ``linger_s`` (up to ``limit``)."""
    try:
        first = pending.get(timeout=wait_s)
    except queue.Empty:
        return []
    items = [first]
    deadline = time.monotonic() + linger_s
    while len(items) < limit:
        try:
            items.append(pending.get_nowait())
            continue
        except queue.Empty:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            items.append(pending.get(timeout=left))
        except queue.Empty:
            break
    for item in items:
        if isinstance(item, BaseException):
            raise item
    return items
