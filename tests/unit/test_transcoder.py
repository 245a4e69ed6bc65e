"""The orjson transcoder round-trips every value type events and snapshots carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st

from adapters.persistence.transcoder import ledger_transcoder
from app.services.ledger import LedgerApplication
from domain.groups import GroupLog
from domain.syncs import SyncState

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=20),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_round_trip_preserves_types_and_values(value: Any) -> None:
    transcoder = ledger_transcoder()
    assert transcoder.decode(transcoder.encode(value)) == value


def test_rows_stay_readable_by_the_librarys_json_transcoder() -> None:
    ours = ledger_transcoder()
    theirs = JSONTranscoder()
    LedgerApplication.register_transcodings(LedgerApplication.__new__(LedgerApplication), theirs)
    value = {"at": datetime(2026, 1, 1, tzinfo=UTC), "id": UUID(int=7), "n": Decimal("1.50")}
    assert theirs.decode(ours.encode(value)) == value


def test_offsets_are_kept() -> None:
    transcoder = ledger_transcoder()
    value = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    decoded = transcoder.decode(transcoder.encode(value))
    assert decoded == value
    assert decoded.utcoffset() == timedelta(hours=2)


def test_unregistered_types_are_refused() -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        ledger_transcoder().encode({"x": {1, 2}})


def test_an_organizers_sync_state_round_trips_in_snapshots() -> None:
    requested = datetime(2026, 2, 1, tzinfo=UTC)
    sync = SyncState(
        status="retrying",
        quantity=7,
        subscription_id="sub_1",
        item_id="si_1",
        period_end=requested.isoformat(),
        proration_behavior="none",
        generation=2,
        idempotency_key="renewal-ledger-k",
        requested_at=requested,
        attempts=1,
        error="api_error: boom",
        next_attempt_at=requested + timedelta(minutes=5),
        key_generation=1,
        verify_first=True,
        next_key="renewal-ledger-k-r1",
    )
    transcoder = ledger_transcoder()
    assert transcoder.decode(transcoder.encode({"syncs": {"sync_1": sync}})) == {
        "syncs": {"sync_1": sync}
    }


def test_a_group_log_round_trips_as_compact_rows() -> None:
    """Issue 12: a group's entries are stored as rows, not dicts; old dict lists still read."""
    at = datetime(2026, 1, 1, 12, 30, 0, 123456, tzinfo=UTC)
    log = GroupLog([{"occurred_at": at, "change_id": "c1", "active": True}])
    transcoder = ledger_transcoder()
    encoded = transcoder.encode({"groups": {"g1": log}})
    assert b"occurred_at" not in encoded
    decoded = transcoder.decode(encoded)["groups"]["g1"]
    assert isinstance(decoded, GroupLog)
    assert decoded == log
    old = transcoder.decode(transcoder.encode({"g1": list(log)}))["g1"]
    assert old == log
