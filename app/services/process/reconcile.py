"""Reconciliation: what Stripe bills against what the ledger expects, difference by difference.

One listing of every subscription (100 a page) is compared with each organizer's state
replayed from the event store. Which organizer a subscription belongs to comes from
``stripe_links`` (and, for subscriptions observed without a link, the renewals read model),
so a full run costs ⌈subscriptions / 100⌉ Stripe calls however many organizers there are.

Fixing never sends anything itself. It records facts — the subscription as listed
(``SubscriptionObserved``, so the ledger's picture catches up with Stripe) and
``DriftDetected`` — and the renewal process manager turns a drift into a quantity sync with
its usual deterministic idempotency key. See docs/reconciliation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import uuid4

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.stripe.gateway import StripeCallError
from adapters.stripe.translate import TranslationError, read_subscription
from app.services.ledger import LedgerApplication
from domain.billing import TERMINAL_SUBSCRIPTION_STATUSES, SubscriptionSnapshot
from domain.organizer import Organizer
from domain.subscriptions import duplicates_of
from projections.renewals import LIVE_STATUSES, observed_subscriptions
from projections.times import fmt_time

Value = int | str | None


class DifferenceKind(StrEnum):
    QUANTITY = "quantity"  # Stripe bills another quantity than the billable groups now
    STATUS = "status"  # Stripe's status ≠ the status the ledger last observed
    PERIOD = "period"  # Stripe's current_period_end ≠ the ledger's
    UNKNOWN_TO_LEDGER = "unknown_to_ledger"  # a live subscription linked to no organizer
    MISSING_ON_STRIPE = "missing_on_stripe"  # the ledger's live subscription is not listed
    UNREADABLE = "unreadable"  # the translator refused the subscription object
    # A second live subscription of an organizer (issue 13): reported, never synced.
    DUPLICATE_SUBSCRIPTION = "duplicate_subscription"


UNKNOWN, MISSING, UNREADABLE = (
    DifferenceKind.UNKNOWN_TO_LEDGER,
    DifferenceKind.MISSING_ON_STRIPE,
    DifferenceKind.UNREADABLE,
)


@dataclass(frozen=True)
class Difference:
    """One way Stripe and the ledger disagree about a subscription."""

    kind: DifferenceKind
    organizer_id: str | None
    subscription_id: str
    stripe_value: Value
    ledger_value: Value
    correctable: bool
    # The subscription as listed, translated: --fix records it without a second call.
    snapshot: SubscriptionSnapshot | None = field(default=None, compare=False, repr=False)
    # Kind-specific fields, added to the JSON (a duplicate: its primary and customer).
    details: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Value | bool]:
        return {
            "kind": self.kind.value,
            "organizer_id": self.organizer_id,
            "subscription_id": self.subscription_id,
            "stripe_value": self.stripe_value,
            "ledger_value": self.ledger_value,
            "correctable": self.correctable,
            **dict(self.details),
        }


def find_differences(
    subscriptions: Iterable[Mapping[str, Any]],
    *,
    owners: Mapping[str, str],
    load: Callable[[str], Organizer | None],
    minimum: int,
    observed_at: datetime,
    group_price_ids: AbstractSet[str] = frozenset(),
) -> list[Difference]:
    """Compare Stripe's subscriptions with the ledger.

    ``owners`` maps subscription id → organizer id (the links); ``load`` replays an
    organizer from the event store. Owned subscriptions absent from ``subscriptions``
    are "missing on Stripe" when the ledger still holds them live.
    """
    cache: dict[str, Organizer | None] = {}

    def organizer(organizer_id: str) -> Organizer | None:
        if organizer_id not in cache:
            cache[organizer_id] = load(organizer_id)
        return cache[organizer_id]

    found: list[Difference] = []
    listed: set[str] = set()
    for subscription in subscriptions:
        subscription_id = str(subscription.get("id"))
        listed.add(subscription_id)
        owner = owners.get(subscription_id)
        try:
            read = read_subscription(
                subscription, observed_at=observed_at, group_price_ids=group_price_ids
            )
        except TranslationError as error:
            found.append(Difference(UNREADABLE, owner, subscription_id, str(error), None, False))
            continue
        if read is None:
            continue  # nothing billed per group: not ours to reconcile
        state = None if owner is None else organizer(owner)
        if owner is not None and state is not None:
            found.extend(compare_subscription(read.snapshot, owner, state, minimum=minimum))
        elif read.snapshot.status not in TERMINAL_SUBSCRIPTION_STATUSES:
            # (Ended subscriptions from before the ledger bill nothing: not worth a line.)
            status = read.snapshot.status
            found.append(Difference(UNKNOWN, owner, subscription_id, status, None, False))
    for subscription_id, owner in owners.items():
        state = None if subscription_id in listed else organizer(owner)
        current = None if state is None else state.observed_subscription(subscription_id)
        if current is not None and current.status in LIVE_STATUSES:
            found.append(Difference(MISSING, owner, subscription_id, None, current.status, False))
    return found


def compare_subscription(
    stripe: SubscriptionSnapshot, organizer_id: str, organizer: Organizer, *, minimum: int
) -> list[Difference]:
    """The differences between one subscription on Stripe and its organizer's state.

    Each subscription is compared with the ledger's picture of that same subscription
    (one entry each, issue 13), so re-observing one never touches another: status and
    period differences are always correctable. The billed quantity is compared only for
    the primary; another live one is a ``duplicate_subscription``, reported only.
    """
    current = organizer.observed_subscription(stripe.subscription_id)
    if current is None and stripe.status not in LIVE_STATUSES:
        return []  # an earlier subscription of this organizer, ended, never observed
    others = [s for s in organizer.subscription_list if s.subscription_id != stripe.subscription_id]
    primary_of = duplicates_of([*others, stripe]).get(stripe.subscription_id)
    found: list[Difference] = []

    def add(kind: DifferenceKind, stripe_value: Value, ledger_value: Value) -> None:
        found.append(
            Difference(
                kind, organizer_id, stripe.subscription_id, stripe_value, ledger_value, True, stripe
            )
        )

    if primary_of is not None:
        details = (
            ("primary_subscription_id", primary_of),
            ("customer_id", organizer.stripe_customer_id or ""),
        )
        found.append(
            Difference(
                DifferenceKind.DUPLICATE_SUBSCRIPTION,
                organizer_id,
                stripe.subscription_id,
                stripe.status,
                primary_of,
                False,
                stripe,
                details,
            )
        )
    elif stripe.status in LIVE_STATUSES:
        expected = organizer.billable_quantity(minimum=minimum)
        if stripe.quantity != expected:
            add(DifferenceKind.QUANTITY, stripe.quantity, expected)
    if current is None:
        add(DifferenceKind.STATUS, stripe.status, None)
        return found
    if stripe.status != current.status:
        add(DifferenceKind.STATUS, stripe.status, current.status)
    if stripe.current_period_end != current.current_period_end:
        add(
            DifferenceKind.PERIOD,
            fmt_time(stripe.current_period_end),
            fmt_time(current.current_period_end),
        )
    return found


# -- the ledger's side and a run -----------------------------------------------------


class SubscriptionSource(Protocol):
    """What reconciliation needs from Stripe (``StripeGateway`` implements it)."""

    def subscriptions(self, *, status: str = "all") -> Iterator[dict[str, Any]]: ...

    def subscription(self, subscription_id: str) -> dict[str, Any]: ...


def new_run_id(at: datetime) -> str:
    """``reconcile:<UTC stamp>-<random>``: the ``source`` of every fact a run records."""
    return f"reconcile:{at.strftime('%Y%m%dT%H%M%SZ')}-{uuid4().hex[:8]}"


class Reconciliation:
    """One run: list Stripe's subscriptions, compare them, and optionally record fixes."""

    def __init__(
        self,
        database: SQLiteDatabase | PostgresDatabase,
        ledger: LedgerApplication,
        stripe: SubscriptionSource,
        *,
        minimum_quantity: int,
        group_price_ids: AbstractSet[str] = frozenset(),
    ) -> None:
        self.database = database
        self.ledger = ledger
        self.stripe = stripe
        self.minimum = minimum_quantity
        self.group_price_ids = group_price_ids
        self.started_at = ledger.clock()
        self.run_id = new_run_id(self.started_at)

    def owners(self, organizer_id: str | None = None) -> dict[str, str]:
        """Subscription id → organizer id: the links, then what the renewals read model
        saw observed without a link (a link always wins)."""
        observed = observed_subscriptions(self.database, organizer_id)
        where = "" if organizer_id is None else " AND organizer_id = :organizer"
        with self.database.transaction() as cursor:
            linked = cursor.execute(
                "SELECT stripe_id AS id, organizer_id FROM stripe_links"
                f" WHERE kind = 'subscription'{where}",
                {"organizer": organizer_id},
            ).fetchall()
        return observed | {str(row["id"]): str(row["organizer_id"]) for row in linked}

    def subscriptions(self, organizer_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Every subscription (one paged listing, canceled ones included), or just the
        organizer's — retrieved by id, one call each (usually one)."""
        if organizer_id is None:
            yield from self.stripe.subscriptions(status="all")
            return
        ids = set(self.owners(organizer_id)) | set(self.ledger.get(organizer_id).subscriptions)
        for subscription_id in sorted(ids):
            try:
                yield self.stripe.subscription(subscription_id)
            except StripeCallError as error:
                if error.status != 404:
                    raise  # only "no such subscription" means missing on Stripe

    def differences(
        self, subscriptions: Iterable[Mapping[str, Any]], organizer_id: str | None = None
    ) -> list[Difference]:
        return find_differences(
            subscriptions,
            owners=self.owners(organizer_id),
            load=self.ledger.find,
            minimum=self.minimum,
            observed_at=self.started_at,
            group_price_ids=self.group_price_ids,
        )
