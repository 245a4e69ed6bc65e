"""Units of the worker's inbox (app/services/intake/stripe_inbox.py): one organizer's rows
of a batch decided in turn on one load of it and saved once; and the words of outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.persistence.database import StoreUnavailableError
from adapters.stripe.delivery import Translation
from app.services.claims import Claims
from app.services.errors import NotReadyError
from app.services.ledger import ConcurrencyError, LedgerApplication
from domain.organizer import Organizer

# The store's trouble, not the row's: the loop stops and retries later.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    StoreUnavailableError,
    OperationalError,
    InterfaceError,
    NotReadyError,
    ConcurrencyError,
)


class Redo(Exception):
    """A lane decided as one unit must be decided again row by row (a conflict, an error
    or a question the unit does not answer): nothing of the unit was saved."""


@dataclass
class Unit:
    """One lane's organizer and claims while its rows are decided together
    (``InboxProcessor._as_unit``)."""

    organizer_id: str
    organizer: Organizer | None = None
    claims: Claims | None = None


def apply_in_unit(
    ledger: LedgerApplication,
    loaded: dict[str, Organizer],
    unit: Unit,
    organizer_id: str,
    translation: Translation,
) -> int:
    """The inbox's ``_apply`` within a unit: decided on the unit's organizer (``loaded``:
    the processor's organizers as it last saved them, tried first), saved with the unit."""
    if organizer_id != unit.organizer_id:
        raise Redo
    if unit.organizer is None:
        organizer = loaded.pop(organizer_id, None) or ledger.find(organizer_id)
        if organizer is None:
            if translation.organizer_hint is None:
                raise Redo  # row by row says why (an unknown organizer)
            organizer = Organizer.register(organizer_id, at=ledger.clock())
        unit.organizer, unit.claims = organizer, ledger.open_unit(organizer)
    assert unit.claims is not None  # set with the organizer, just above
    try:
        return ledger.decide_in_unit(
            unit.organizer,
            unit.claims,
            lambda org, at, _claims: sum(c.apply(org, at) for c in translation.commands),
        )
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:  # the organizer may hold half a decision: drop it all
        raise Redo from error


def prices_note(reason: str, recorded: int) -> str:
    return f"{reason}: recorded {recorded} price facts" if recorded else f"{reason}: nothing new"


def waiting_reason(translation: Translation) -> str:
    waiting = [
        f"{kind} {value}"
        for kind, value in (
            ("customer", translation.customer_id),
            ("subscription", translation.subscription_id),
        )
        if value
    ]
    if not waiting:
        return "no organizer, customer or subscription to route this event to"
    return f"waiting for {' or '.join(waiting)} to be linked to an organizer"
