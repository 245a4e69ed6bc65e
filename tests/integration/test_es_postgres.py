"""The ledger's PostgreSQL recorders (adapters/persistence/es_postgres.py) read and write
what the library's do: the same rows for every shape of ``select_events`` and
``select_notifications``, on the same tables."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from eventsourcing import postgres as es

from adapters.persistence.es_postgres import LedgerAggregateRecorder, LedgerApplicationRecorder
from app.bootstrap import Container, bootstrap
from app.settings import load_settings
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from tests.support.clock import SteppingClock
from tests.support.postgres import fresh_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def container(postgres_url: str) -> Iterator[Container]:
    with fresh_schema(postgres_url) as url:
        built = bootstrap(
            load_settings(database_url=url, snapshot_interval=3),
            clock=SteppingClock(),
            embedded_migrate=False,
        )
        built.migrate()
        try:
            yield built
        finally:
            built.close()


def _history(container: Container) -> list[str]:
    ledger = container.ledger
    names = [f"org-{n}" for n in range(3)]
    for name, change in itertools.product(names, range(7)):
        ledger.change_group(
            name,
            action=GroupAction.ACTIVATED if change % 3 else GroupAction.DEACTIVATED,
            group_id=f"g{change % 4}",
            change_id=f"{name}-{change}",
            occurred_at=ledger.clock() - timedelta(minutes=60 - change),
        )
    return names


def test_the_ledger_runs_its_own_recorders(container: Container) -> None:
    ledger = container.ledger
    assert type(ledger.recorder) is LedgerApplicationRecorder
    assert ledger.snapshots is not None
    assert type(ledger.snapshots.recorder) is LedgerAggregateRecorder


def test_select_events_returns_the_library_rows_for_every_shape(container: Container) -> None:
    names = _history(container)
    ours = container.ledger.recorder
    assert isinstance(ours, LedgerApplicationRecorder)
    library = es.PostgresApplicationRecorder(
        datastore=ours.datastore, events_table_name=ours.events_table_name
    )
    organizer = container.ledger.get(names[1])
    assert organizer.version >= 7
    shapes = itertools.product((None, 2), (None, 6), (False, True), (None, 3))
    for gt, lte, desc, limit in shapes:
        kwargs = {"gt": gt, "lte": lte, "desc": desc, "limit": limit}
        expected = library.select_events(organizer.id, **kwargs)
        assert expected, kwargs
        assert ours.select_events(organizer.id, **kwargs) == expected, kwargs
    snapshots = container.ledger.snapshots
    assert snapshots is not None
    assert isinstance(snapshots.recorder, LedgerAggregateRecorder)
    library_snapshots = es.PostgresAggregateRecorder(
        datastore=ours.datastore, events_table_name=snapshots.recorder.events_table_name
    )
    found = snapshots.recorder.select_events(organizer.id, desc=True, limit=1)
    assert found
    assert found == library_snapshots.select_events(organizer.id, desc=True, limit=1)


def test_select_notifications_returns_the_library_rows_for_every_shape(
    container: Container,
) -> None:
    _history(container)
    ours = container.ledger.recorder
    assert isinstance(ours, LedgerApplicationRecorder)
    library = es.PostgresApplicationRecorder(
        datastore=ours.datastore, events_table_name=ours.events_table_name
    )
    topics = [f"{Organizer.GroupActivated.__module__}:{Organizer.GroupActivated.__qualname__}"]
    assert ours.max_notification_id() == library.max_notification_id()
    shapes = itertools.product((None, 5), (None, 30), ((), topics), (False, True))
    for start, stop, wanted, inclusive in shapes:
        kwargs = {"stop": stop, "topics": wanted, "inclusive_of_start": inclusive}
        expected = library.select_notifications(start, 10, **kwargs)
        assert expected, (start, kwargs)
        assert ours.select_notifications(start, 10, **kwargs) == expected, (start, kwargs)


def test_any_stream_tells_whether_any_of_the_streams_has_an_event(container: Container) -> None:
    names = _history(container)
    recorder = container.ledger.recorder
    assert isinstance(recorder, LedgerApplicationRecorder)
    held = container.ledger.get(names[0]).id
    never = [uuid.uuid4() for _ in range(3)]
    assert recorder.any_stream([*never, held])
    assert recorder.any_stream([held])
    assert not recorder.any_stream(never)
    assert not recorder.any_stream([])


def test_a_delivery_taken_once_is_refused_again_through_its_claims(container: Container) -> None:
    """``has_seen_any`` asks the three claims a subscription delivery may have taken in one
    read (``any_stream``): a delivery taken is never taken again, whatever it says."""
    ledger = container.ledger
    now = ledger.clock()

    def snapshot(quantity: int, observed: int) -> SubscriptionSnapshot:
        return SubscriptionSnapshot(
            subscription_id="sub_1",
            item_id="si_1",
            price_id="price_1",
            status="active",
            quantity=quantity,
            current_period_start=now - timedelta(days=3),
            current_period_end=now + timedelta(days=27),
            observed_at=now + timedelta(seconds=observed),
        )

    def observe(taken: SubscriptionSnapshot, source: str) -> bool:
        return ledger.update(
            "org-claims",
            lambda org, at: org.observe_subscription(taken, source=source, at=at),
            register=True,
        )

    assert observe(snapshot(2, 0), "evt_1")
    assert not observe(snapshot(5, 10), "evt_1")  # the same delivery: refused by its claim
    assert observe(snapshot(5, 10), "evt_2")
    taken = ledger.get("org-claims").subscription_snapshot
    assert taken is not None
    assert taken.quantity == 5
