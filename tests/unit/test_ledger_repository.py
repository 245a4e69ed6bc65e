"""The ledger's repository rebuilds exactly what the library's default projector does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventsourcing.application import project_aggregate

from adapters.persistence.repository import LedgerRepository
from app.services.ledger import LedgerApplication
from domain.groups import GroupAction
from domain.organizer import organizer_uuid
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_version_rebuilds_as_the_library_projector_does() -> None:
    ledger = LedgerApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "7"},
        clock=SteppingClock(T0, step=timedelta(minutes=1)),
    )
    assert isinstance(ledger.repository, LedgerRepository)
    for i in range(40):
        ledger.change_group(
            "org-1",
            action=GroupAction.ACTIVATED if i % 3 else GroupAction.DEACTIVATED,
            group_id=f"g{i % 5}",
            change_id=f"c{i}",
            occurred_at=T0 + timedelta(minutes=i),
        )
    stream = organizer_uuid("org-1")
    last = ledger.get("org-1").version
    for version in (1, 2, 7, 8, 20, last):
        ours = ledger.repository.get(stream, version=version)
        theirs = ledger.repository.get(stream, version=version, projector_func=project_aggregate)
        assert ours.version == theirs.version == version
        assert vars(ours) == vars(theirs)
