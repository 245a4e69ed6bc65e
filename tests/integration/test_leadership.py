"""Leader election is per ledger: one schema, one leader; two schemas, two leaders."""

from __future__ import annotations

import threading

import pytest

from adapters.persistence.database import parse_database_url
from app.entrypoints.worker.leadership import Leadership
from tests.support.postgres import fresh_schema

pytestmark = pytest.mark.postgres


def test_a_second_worker_on_the_same_schema_stands_by(postgres_url: str) -> None:
    stop = threading.Event()
    with fresh_schema(postgres_url) as url:
        leader = Leadership(parse_database_url(url), poll_s=0.05)
        standby = Leadership(parse_database_url(url), poll_s=0.05)
        try:
            assert leader.acquire(stop)
            threading.Timer(0.3, stop.set).start()
            assert not standby.acquire(stop)
        finally:
            stop.set()
            leader.release()
            standby.release()


def test_ledgers_in_two_schemas_of_one_database_each_have_a_leader(postgres_url: str) -> None:
    stop = threading.Event()
    with fresh_schema(postgres_url) as first, fresh_schema(postgres_url) as second:
        one = Leadership(parse_database_url(first), poll_s=0.05)
        two = Leadership(parse_database_url(second), poll_s=0.05)
        give_up = threading.Timer(2.0, stop.set)
        give_up.start()
        try:
            assert one.acquire(stop)
            assert two.acquire(stop)
        finally:
            give_up.cancel()
            stop.set()
            one.release()
            two.release()
