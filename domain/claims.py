"""Inputs an organizer has taken, remembered outside its state (issue 12).

Deduplicating platform change ids (and Stripe deliveries) by keeping every id in the
organizer's state made each command cost O(history). Instead each input taken gets a
tiny ``InputClaim`` stream of its own, saved in the same transaction as the organizer's
events. Its id is derived from (organizer, input key), so the store refuses a second
claim of the same input (its version 1 already exists) and the command is decided again,
seeing the claim: "already taken" is one indexed read, and the aggregate does not grow.

Claim events are in the notification log too; read models and reactors key their rows by
organizer and ignore them.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.stripe_fact_events import source_key

# Fixed forever: claim ids are derived from it (changing it forgets every claim).
CLAIM_NAMESPACE = uuid5(NAMESPACE_URL, "https://renewal-ledger.invalid/input-claim")


def claim_id(organizer_id: UUID, key: str) -> UUID:
    """The claim stream of one input of one organizer: same input, same id, forever."""
    return uuid5(CLAIM_NAMESPACE, f"{organizer_id}|{key}")


def change_key(change_id: str) -> str:
    """What taking a platform group change means: its change id, per organizer."""
    return f"group-change:{change_id}"


def fact_key(fact: type[object], source: str) -> str:
    """What taking a Stripe fact means: its kind and its delivery, per organizer."""
    return f"stripe-fact:{source_key(fact, source)}"


def invoice_final_key(invoice_id: str) -> str:
    """An invoice reached a status it never leaves (its outcome): asked once the state
    has forgotten the invoice (``domain/settled.py``)."""
    return f"invoice-final:{invoice_id}"


def payment_key(invoice_id: str) -> str:
    """An invoice's payment succeeded: asked once the state no longer holds it."""
    return f"payment-succeeded:{invoice_id}"


def check_key(trigger: str, cause: str) -> str:
    """A renewal quantity check decided once per (trigger, cause)."""
    return f"renewal-check:{trigger}|{cause}"


def drift_key(source: str) -> str:
    """Drift recorded once per reconciliation run (its ``source``)."""
    return f"drift:{source}"


class InputClaim(Aggregate):
    """One input taken by one organizer, and what it did there."""

    class Claimed(Aggregate.Created):
        organizer_id: UUID
        key: str
        outcome: str

    def __init__(self, organizer_id: UUID, key: str, outcome: str) -> None:
        self.organizer_id = organizer_id
        self.key = key
        self.outcome = outcome

    @classmethod
    def claim(cls, organizer_id: UUID, key: str, outcome: str, *, at: datetime) -> InputClaim:
        return cls._create(
            cls.Claimed,
            id=claim_id(organizer_id, key),
            organizer_id=organizer_id,
            key=key,
            outcome=outcome,
            timestamp=at,
        )
