"""Properties: delivery order and duplication of group changes never matter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from domain.groups import GroupAction, resolve_in_order
from domain.organizer import Organizer
from domain.policy import billable_quantity

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Change = tuple[str, GroupAction, datetime, str]

changes = st.lists(
    st.tuples(
        st.sampled_from(["g1", "g2", "g3"]),
        st.sampled_from(list(GroupAction)),
        # Few distinct instants, so equal timestamps (ordered by change id) are common.
        st.integers(min_value=0, max_value=6).map(lambda m: T0 + timedelta(minutes=m)),
    ),
    max_size=25,
).map(lambda items: [(g, a, t, f"chg-{i:03d}") for i, (g, a, t) in enumerate(items)])


def apply_all(deliveries: list[Change]) -> Organizer:
    organizer = Organizer.register("org-prop", at=T0)
    for group, action, occurred_at, change_id in deliveries:
        organizer.change_group(
            action=action, group_id=group, change_id=change_id, occurred_at=occurred_at, at=T0
        )
    return organizer


@settings(max_examples=300)
@given(changes, st.randoms(use_true_random=False), st.data())
def test_any_order_with_duplicates_gives_the_sorted_once_result(
    original: list[Change], rnd: random.Random, data: st.DataObject
) -> None:
    deliveries = list(original)
    if deliveries:
        deliveries += data.draw(st.lists(st.sampled_from(original), max_size=10))
    rnd.shuffle(deliveries)
    organizer = apply_all(deliveries)
    assert set(organizer.active_group_ids) == resolve_in_order(original)
    # The billable quantity at every instant agrees with the in-order result too.
    for minute in range(8):
        at = T0 + timedelta(minutes=minute)
        expected = resolve_in_order([c for c in original if c[2] <= at])
        assert billable_quantity(organizer.groups, at, minimum=0) == len(expected)


class ShuffledDelivery(RuleBasedStateMachine):
    """The platform emits changes; the network delivers them late, twice or never-yet."""

    emitted = Bundle("emitted")

    def __init__(self) -> None:
        super().__init__()
        self.organizer = Organizer.register("org-machine", at=T0)
        self.sent: list[Change] = []
        self.counter = 0

    @rule(
        target=emitted,
        group=st.sampled_from(["a", "b"]),
        action=st.sampled_from(list(GroupAction)),
        minute=st.integers(0, 5),
    )
    def emit(self, group: str, action: GroupAction, minute: int) -> Change:
        self.counter += 1
        return (group, action, T0 + timedelta(minutes=minute), f"m-{self.counter:03d}")

    @rule(change=emitted)
    def deliver(self, change: Change) -> None:
        group, action, occurred_at, change_id = change
        self.organizer.change_group(
            action=action, group_id=group, change_id=change_id, occurred_at=occurred_at, at=T0
        )
        self.sent.append(change)

    @invariant()
    def matches_in_order_application_of_what_arrived(self) -> None:
        assert set(self.organizer.active_group_ids) == resolve_in_order(self.sent)


TestShuffledDelivery = ShuffledDelivery.TestCase
