"""Properties of batch intake: arrival order, batching and duplicates never matter.

Driven through :mod:`app.services.intake.group_changes` on the in-memory store, so each
example is a fresh ledger; ``domain.groups.resolve_in_order`` is the oracle.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.intake.group_changes import Outcome, process_batch
from app.services.ledger import LedgerApplication
from domain.groups import GroupAction, resolve_in_order

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ORGANIZERS = ["org-a", "org-b", "org-c"]
Change = tuple[str, str, GroupAction, datetime, str]  # organizer, group, action, at, id

changes = st.lists(
    st.tuples(
        st.sampled_from(ORGANIZERS),
        st.sampled_from(["g1", "g2", "g3"]),
        st.sampled_from(list(GroupAction)),
        # Few distinct instants, so ties broken by change id are common.
        st.integers(min_value=0, max_value=5).map(lambda m: T0 + timedelta(minutes=m)),
    ),
    min_size=1,
    max_size=30,
).map(lambda items: [(*item, f"chg-{i:03d}") for i, item in enumerate(items)])


def as_item(change: Change) -> dict[str, Any]:
    organizer, group, action, occurred_at, change_id = change
    return {
        "change_id": change_id,
        "organizer_id": organizer,
        "group_id": group,
        "action": action.value,
        "occurred_at": occurred_at.isoformat(),
    }


def split(items: list[Change], cuts: list[int]) -> list[list[Change]]:
    bounds = [0, *sorted({c % (len(items) + 1) for c in cuts}), len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@settings(max_examples=150, deadline=None)
@given(
    changes,
    st.randoms(use_true_random=False),
    st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    st.data(),
)
def test_any_order_batching_and_duplication_gives_the_sorted_once_state(
    original: list[Change], rnd: random.Random, cuts: list[int], data: st.DataObject
) -> None:
    deliveries = original + data.draw(st.lists(st.sampled_from(original), max_size=10))
    rnd.shuffle(deliveries)
    ledger = LedgerApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0 + timedelta(days=1)
    )
    try:
        seen: set[str] = set()
        for batch in split(deliveries, cuts):
            for change, result in zip(
                batch, process_batch(ledger, [as_item(c) for c in batch]), strict=True
            ):
                # A change id's first delivery is never a duplicate; every later one is.
                assert (result.outcome is Outcome.DUPLICATE) == (change[4] in seen)
                seen.add(change[4])
        for organizer in {c[0] for c in original}:
            expected = resolve_in_order([c[1:] for c in original if c[0] == organizer])
            assert set(ledger.get(organizer).active_group_ids) == expected
    finally:
        ledger.close()
