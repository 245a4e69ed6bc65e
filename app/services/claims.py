"""The claims of the inputs one decision takes (domain/claims.py), for ``LedgerApplication``.

Saved with the organizer's events in one transaction, so the store refuses a second taking
of an input and the ledger decides the command again (see ``Claims``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.claims import (
    InputClaim,
    change_key,
    check_key,
    drift_key,
    fact_key,
    invoice_final_key,
    payment_key,
)
from domain.groups import ChangeOutcome, GroupAction
from domain.organizer import Organizer


class ClaimReader(Protocol):
    def claimed(self, organizer_id: UUID, key: str) -> bool: ...

    def claimed_any(self, organizer_id: UUID, keys: Sequence[str]) -> bool: ...


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

    def seen_any(self, keys: Sequence[str]) -> bool:
        """``seen`` of any of these keys, in one read of the store."""
        return any(key in self.new for key in keys) or self._ledger.claimed_any(
            self._organizer_id, keys
        )

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


def claim_recorded(organizer: Organizer, claims: Claims, *, at: datetime) -> None:
    """The claims of what one decision recorded: each Stripe delivery taken, and the
    events that promise a claim (``claimed``): final invoices, succeeded payments,
    renewal checks and drift reports."""
    for event in organizer.pending_events:
        if not vars(event).get("claimed", False):
            continue
        if isinstance(event, Organizer.RenewalQuantityChecked):
            claims.take(check_key(event.trigger, event.cause), event.outcome, at=at)
        elif isinstance(event, Organizer.DriftDetected):
            claims.take(drift_key(event.source), str(event.expected_quantity), at=at)
    for fact in organizer.stripe_facts_pending():
        claims.take(fact_key(type(fact), fact.source), "recorded", at=at)
        if not vars(fact).get("claimed", False):
            continue
        if isinstance(fact, Organizer.InvoiceRecorded):
            claims.take(invoice_final_key(fact.invoice_id), fact.status, at=at)
        elif isinstance(fact, Organizer.PaymentSucceeded):
            claims.take(payment_key(fact.invoice_id), "succeeded", at=at)
