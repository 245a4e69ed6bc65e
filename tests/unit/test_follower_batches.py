"""The PostgreSQL follower's batches (projections/follower.py ``drain_batch``): a trickle of
notifications is applied together, never more than a batch, never waiting on an empty
queue longer than the poll."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from projections.follower import drain_batch


def test_notifications_right_behind_the_first_join_its_batch() -> None:
    pending: queue.Queue[object] = queue.Queue()

    def trickle() -> None:
        for n in range(5):
            pending.put(n)
            time.sleep(0.002)

    feeder = threading.Thread(target=trickle)
    feeder.start()
    batch: list[object] = list(drain_batch(pending, 100, wait_s=1.0, linger_s=0.5))
    feeder.join()
    assert batch == [0, 1, 2, 3, 4]


def test_a_batch_stops_at_its_limit_and_the_rest_waits_for_the_next() -> None:
    pending: queue.Queue[object] = queue.Queue()
    for n in range(7):
        pending.put(n)
    assert list[object](drain_batch(pending, 3, wait_s=0.1, linger_s=0.1)) == [0, 1, 2]
    assert list[object](drain_batch(pending, 3, wait_s=0.1, linger_s=0.1)) == [3, 4, 5]
    assert list[object](drain_batch(pending, 3, wait_s=0.1, linger_s=0.0)) == [6]


def test_an_empty_queue_gives_an_empty_batch() -> None:
    assert list[object](drain_batch(queue.Queue(), 10, wait_s=0.01, linger_s=0.5)) == []


def test_a_subscription_error_in_the_batch_is_raised() -> None:
    pending: queue.Queue[object] = queue.Queue()
    pending.put(1)
    pending.put(ConnectionError("listen connection lost"))
    with pytest.raises(ConnectionError, match="listen connection lost"):
        drain_batch(pending, 10, wait_s=0.1, linger_s=0.0)
