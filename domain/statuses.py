"""Where a piece of work stands, in one place: the status values read models store and
the process manager and the ops lists compare against.

``StrEnum`` members equal their strings, so rows written before these existed (and rows
compared with plain text in SQL) read the same.
"""

from __future__ import annotations

from enum import StrEnum

from domain.corrections import CorrectionStatus

__all__ = [
    "OPEN_SYNC_STATUSES",
    "CorrectionStatus",
    "PaymentStatus",
    "RiskKind",
    "RiskStatus",
    "SyncStatus",
    "after_failure",
]


class SyncStatus(StrEnum):
    """A quantity sync (``rm_quantity_syncs.status``, ``rm_renewals.sync_status``)."""

    PENDING = "pending"
    RETRYING = "retrying"
    CONFIRMED = "confirmed"
    FAILED = "failed"  # refused for good, or not confirmed within the retry horizon
    SUPERSEDED = "superseded"  # a newer decision or a retry replaced it


# What a sender still sends (the work queues' condition).
OPEN_SYNC_STATUSES = frozenset({SyncStatus.PENDING, SyncStatus.RETRYING})


def after_failure(retryable: bool) -> SyncStatus:
    """Where a failed attempt leaves its sync or correction (same words for both)."""
    return SyncStatus.RETRYING if retryable else SyncStatus.FAILED


class RiskKind(StrEnum):
    """What puts a renewal at risk (``rm_renewal_risks.kind``); a correction's row has
    the correction's kind (``CorrectionKind``) instead."""

    SYNC = "sync"
    DRIFT = "drift"
    UNCORRECTED = "uncorrected"


class RiskStatus(StrEnum):
    """Where a risk stands (``rm_renewal_risks.status``)."""

    PENDING = "pending"
    RETRYING = "retrying"
    FAILED = "failed"
    UNCORRECTED = "uncorrected"
    DRIFT = "drift"


class PaymentStatus(StrEnum):
    """The last payment of an organizer's summary."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
