"""The claims of the inputs one decision takes (domain/claims.py), for ``LedgerApplication``.

Saved with the organizer's events in one transaction, so the store refuses a second taking
of an input and the ledger decides the command again (see ``Claims``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.claims import InputClaim, change_key
from domain.groups import ChangeOutcome, GroupAction
from domain.organizer import Organizer


class ClaimReader(Protocol):
    def claimed(self, organizer_id: UUID, key: str) -> bool: ...


class Claims:
    """The inputs one decision takes (domain/claims.py): saved with the organizer's events,
    so the store refuses the second taking of an input and the command is decided again.

    Optimistic: a first attempt reads no claim (most inputs are new); a save the store
    refused is decided again with ``verify``, one indexed read per input asked about."""

    def __init__(self, ledger: ClaimReader, organizer_id: UUID, *, verify: bool) -> None:
        self._ledger = ledger
        self._organizer_id = organizer_id
        self._verify = verify
        self.new: dict[str, InputClaim] = {}

    def taken(self, key: str) -> bool:
        """For an input whose claim is the one its command takes (a change id)."""
        if key in self.new:
            return True
        return self._verify and self._ledger.claimed(self._organizer_id, key)

    def seen(self, key: str) -> bool:
        """Always read: a Stripe fact command asks about kinds it may not record itself
        (a snapshot taken as observed, asked again as stale), so no conflict would tell."""
        return key in self.new or self._ledger.claimed(self._organizer_id, key)

    def take(self, key: str, outcome: str, *, at: datetime) -> None:
        self.new[key] = InputClaim.claim(self._organizer_id, key, outcome, at=at)


def take_group_change(
    organizer: Organizer,
    claims: Claims,
    *,
    action: GroupAction,
    group_id: str,
    change_id: str,
    occurred_at: datetime,
    at: datetime,
    group_name: str | None = None,
) -> ChangeOutcome:
    """One platform group change, its id checked against (and kept in) the claims."""
    if claims.taken(change_key(change_id)):
        return ChangeOutcome.DUPLICATE
    outcome = organizer.change_group(
        action=action,
        group_id=group_id,
        change_id=change_id,
        occurred_at=occurred_at,
        at=at,
        group_name=group_name,
    )
    if outcome is not ChangeOutcome.DUPLICATE:
        claims.take(change_key(change_id), outcome.value, at=at)
    return outcome
