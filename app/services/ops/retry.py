"""An operator's retry of a failed quantity sync.

The read model says whose sync it is; the organizer aggregate decides, inside the
ledger's optimistic-concurrency loop, so two operators retrying at once cannot both
succeed. ``Organizer.retry_failed_sync`` refuses anything but a ``failed`` sync; this
service also refuses a failed sync that a newer one already follows for the same item
and period (its retry, or a newer decision from a scheduled check or drift): retrying it
would send the failed sync's old quantity over the newer decision, and, where a retried
sync stays ``failed``, a second retry would request a second new sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.persistence.database import Database
from app.services.ledger import LedgerApplication, UnknownOrganizerError
from app.services.ops.failures import owner_of
from domain.organizer import Organizer, OrganizerError
from domain.statuses import SyncStatus
from domain.syncs import SyncState


class UnknownSyncError(LookupError):
    """No quantity sync with this id (in the read model or the organizer's stream)."""


class SyncNotRetryableError(ValueError):
    """The sync is not an open failure; ``status`` and ``later_sync_id`` say why."""

    def __init__(
        self, sync_id: str, status: str, reason: str, later_sync_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.sync_id = sync_id
        self.status = status
        self.later_sync_id = later_sync_id


@dataclass(frozen=True)
class RetryRequested:
    """The new sync that will carry the retry (sent by the worker with a new key)."""

    sync_id: str
    retry_of: str
    status: str = SyncStatus.PENDING

    def as_json(self) -> dict[str, str]:
        return {"sync_id": self.sync_id, "retry_of": self.retry_of, "status": self.status}


def request_retry(database: Database, ledger: LedgerApplication, sync_id: str) -> RetryRequested:
    """Record a retry of the failed sync ``sync_id``; the worker's sender then sends it.

    Raises :class:`UnknownSyncError` or :class:`SyncNotRetryableError`.
    """
    organizer_id = owner_of(database, sync_id)
    if organizer_id is None:
        raise UnknownSyncError(sync_id)

    def decide(organizer: Organizer, at: datetime) -> str:
        check_open_failure(organizer, sync_id)
        try:
            return organizer.retry_failed_sync(sync_id, at=at)
        except OrganizerError as error:
            status = organizer.syncs[sync_id]["status"]
            raise SyncNotRetryableError(sync_id, status, str(error)) from None

    try:
        new_id = ledger.update(organizer_id, decide)
    except UnknownOrganizerError:
        raise UnknownSyncError(sync_id) from None
    return RetryRequested(new_id, sync_id)


def check_open_failure(organizer: Organizer, sync_id: str) -> None:
    """Refuse a sync that a newer one for the same item and period already follows."""
    sync = organizer.syncs.get(sync_id)
    if sync is None:
        raise UnknownSyncError(sync_id)
    later = newest_later_sync(organizer, sync)
    if later is not None:
        reason = (
            f"sync {sync_id} is {sync['status']} and sync {later} was requested after it"
            " for the same item and period (a retry or a newer decision)"
        )
        raise SyncNotRetryableError(sync_id, sync["status"], reason, later)


def newest_later_sync(organizer: Organizer, sync: SyncState) -> str | None:
    """The newest sync of the same item and period with a higher generation, if any."""
    later = [
        (other["generation"], other_id)
        for other_id, other in organizer.syncs.items()
        if other["item_id"] == sync["item_id"]
        and other["period_end"] == sync["period_end"]
        and other["generation"] > sync["generation"]
    ]
    return max(later)[1] if later else None
