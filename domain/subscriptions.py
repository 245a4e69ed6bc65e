"""Which of an organizer's subscriptions the ledger bills through (the primary), and
which are duplicates. Pure: the same snapshots, in any order, give the same answer.

An organizer should have one subscription. A second Checkout paid, or one made by hand in
the Dashboard, gives it two: the ledger keeps syncing one (the **primary**) and reports
every other live one as a **duplicate**, never syncs or corrects it.

The rule, over each subscription's newest snapshot: the primary is the *earliest-created
live* one (``created``, then the id; a snapshot recorded before ``created`` was read counts
as earliest: it predates every one that has it). With none live, the one that ended last
(``current_period_end``, then the id), so a canceled organizer still shows its last one.
Every subscription the ledger observes is on the per-group price when ``STRIPE_PRICE_ID``
is set: the translator drops the others (docs/stripe-translation.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.billing import TERMINAL_SUBSCRIPTION_STATUSES, SubscriptionSnapshot


def is_live(snapshot: SubscriptionSnapshot) -> bool:
    return snapshot.status not in TERMINAL_SUBSCRIPTION_STATUSES


def _age_key(snapshot: SubscriptionSnapshot) -> tuple[Any, ...]:
    # Unknown creation times sort first (the oldest), and are never compared with a time.
    created = snapshot.created
    return (created is not None, () if created is None else (created,), snapshot.subscription_id)


def choose_primary(snapshots: Iterable[SubscriptionSnapshot]) -> SubscriptionSnapshot | None:
    """The subscription the ledger syncs (None: no subscription at all)."""
    every = list(snapshots)
    live = [s for s in every if is_live(s)]
    if live:
        return min(live, key=_age_key)
    return max(every, key=lambda s: (s.current_period_end, s.subscription_id), default=None)


def duplicates_of(snapshots: Iterable[SubscriptionSnapshot]) -> dict[str, str]:
    """Every live subscription but the primary: duplicate id → primary id."""
    every = list(snapshots)
    primary = choose_primary(every)
    if primary is None:
        return {}
    return {
        s.subscription_id: primary.subscription_id
        for s in every
        if is_live(s) and s.subscription_id != primary.subscription_id
    }
