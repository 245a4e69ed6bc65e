"""A quantity sync's state: what the sender's next attempt needs (typed, immutable).

Each sync event replaces the organizer's ``SyncState`` with ``dataclasses.replace``;
the history is the log. Snapshots store it through a transcoding
(``adapters/persistence/transcoder.py``); snapshots taken before it existed hold a
plain dict per sync, read by ``SyncState.from_state``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from domain.flat import field_values


@dataclass(frozen=True, slots=True)
class SyncState:
    """One requested quantity update of a subscription item for one renewal period."""

    status: str  # pending, retrying, confirmed, failed, superseded
    quantity: int
    subscription_id: str
    item_id: str
    period_end: str  # ISO text: the same period compares equal whatever its offset
    proration_behavior: str
    generation: int
    idempotency_key: str
    requested_at: datetime
    attempts: int = 0
    error: str | None = None
    next_attempt_at: datetime | None = None
    # Attempts whose outcome Stripe left unknown spend their key: the next one is new.
    key_generation: int = 0
    verify_first: bool = False
    next_key: str = ""  # the next attempt's key, as recorded (since issue 10)
    confirmed_at: datetime | None = None

    def as_state(self) -> dict[str, Any]:
        return field_values(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> SyncState:
        """From a stored dict; keys it lacks (older snapshots) take their defaults."""
        values = {f.name: state[f.name] for f in fields(cls) if f.name in state}
        values["next_key"] = values.get("next_key") or ""
        return cls(**values)

    # Read access by key, as when sync state was a dict: kept for callers outside
    # domain/ (process manager, ops, reconciliation) until they read attributes.
    def __getitem__(self, name: str) -> Any:
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if name in self.__dataclass_fields__ else default


def upcast_syncs(state: dict[str, Any]) -> None:
    """Snapshot state before ``SyncState``: one plain dict per sync."""
    state["syncs"] = {
        sync_id: sync if isinstance(sync, SyncState) else SyncState.from_state(sync)
        for sync_id, sync in state.get("syncs", {}).items()
    }
