"""The organizer's event classes, as read models and reactors dispatch on them.

Read models dispatch on the classes (``Organizer.GroupActivated``), never on their names:
a renamed class then fails at import instead of silently dropping rows, and mypy sees the
fields. Every model says which classes it handles and which it ignores on purpose
(``ReadModel.handles`` / ``IGNORED``); tests/unit/test_event_dispatch.py holds every event
class of the aggregate to one of the two, so a new event needs a decision everywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import TopicError, resolve_topic

from domain.organizer import Organizer

if TYPE_CHECKING:
    from projections.base import ReadModel

EventClass = type[Any]

# Bases that are never recorded themselves: what they mean is in their subclasses.
NEVER_RECORDED: frozenset[EventClass] = frozenset(
    {Organizer.Event, Organizer.Created, Organizer.StripeFact, Organizer.CorrectionRequested}
)


def organizer_event_classes() -> frozenset[EventClass]:
    """Every event class of the aggregate: its ``Event`` subclasses and ``Registered``."""
    found: set[EventClass] = {Organizer.Registered}
    for name in dir(Organizer):
        value = getattr(Organizer, name)
        if isinstance(value, type) and issubclass(value, Organizer.Event):
            found.add(value)
    return frozenset(found)


# The aggregate's events by subject, for ``IGNORED`` sets that pass over a whole subject.
# A new event class belongs in none of these until someone decides where it goes.
GROUP_EVENTS: frozenset[EventClass] = frozenset(
    {
        Organizer.GroupActivated,
        Organizer.GroupDeactivated,
        Organizer.GroupChangeReaffirmed,
        Organizer.StaleGroupChangeIgnored,
    }
)
CUSTOMER_EVENTS: frozenset[EventClass] = frozenset(
    {
        Organizer.StripeCustomerLinked,
        Organizer.StripeCustomerDeleted,
        Organizer.EnrollmentStarted,
        Organizer.TaxIdsObserved,
        Organizer.RenewalPreviewRecorded,  # the summary keeps the latest (billing page)
    }
)
SUBSCRIPTION_EVENTS: frozenset[EventClass] = frozenset(
    {
        Organizer.SubscriptionObserved,
        Organizer.StaleSubscriptionSnapshotIgnored,
        Organizer.SubscriptionCanceled,
        Organizer.RenewalUpcoming,
        Organizer.RenewalQuantityChecked,
        Organizer.DriftDetected,
    }
)
# A second live subscription (issue 13): projections/duplicates.py reads them.
DUPLICATE_EVENTS: frozenset[EventClass] = frozenset(
    {
        Organizer.DuplicateSubscriptionFound,
        Organizer.DuplicateSubscriptionResolved,
        Organizer.OtherSubscriptionObserved,
    }
)
SYNC_EVENTS: frozenset[EventClass] = frozenset(
    {
        Organizer.QuantitySyncRequested,
        Organizer.QuantitySyncSuperseded,
        Organizer.QuantitySyncConfirmed,
        Organizer.QuantitySyncFailed,
    }
)
INVOICE_EVENTS: frozenset[EventClass] = frozenset(
    {Organizer.InvoiceRecorded, Organizer.PaymentSucceeded, Organizer.PaymentFailed}
)
CORRECTION_EVENTS: frozenset[EventClass] = frozenset(
    {
        Organizer.DraftInvoiceQuantityMismatch,
        Organizer.DraftCorrectionRequested,
        Organizer.LateDifferenceRequested,
        Organizer.CorrectionStepDone,
        Organizer.CorrectionConfirmed,
        Organizer.CorrectionAttemptFailed,
        Organizer.DraftCorrectionMissed,
        Organizer.RenewalInvoiceLeftUncorrected,
    }
)


def decided_classes(models: Iterable[ReadModel | type[ReadModel]]) -> frozenset[EventClass]:
    """The classes some model decides about: what ``process_in`` lets reach ``apply``."""
    return frozenset().union(*(m.handles | m.IGNORED for m in models))


def decided_topics(stored: Sequence[str], decided: Collection[EventClass]) -> list[str]:
    """Those of the ``stored`` topics that resolve to one of the ``decided`` classes.
    Taken from the log rather than derived from the classes, so an old or moved topic
    registered for a class (resolved as the decoder resolves it) is kept too; one that
    does not resolve is kept, so that the replay fails on it as an unfiltered one would."""
    kept = []
    for topic in stored:
        try:
            cls = resolve_topic(topic)
        except TopicError:
            kept.append(topic)
            continue
        if cls in decided:
            kept.append(topic)
    return kept
