"""Properties of the group history read model's answers (issue 16): whatever order the
platform's changes arrive in, and however often, the changes recorded are the same, the
groups counted at any instant are the aggregate's, and the count-moving changes between
two instants add up from one count to the other.

The changes go through the ledger (in memory), as the platform's do: since issue 12 a
change id folded out of the organizer's state is remembered by its claim beside it
(domain/claims.py), so the bare aggregate alone no longer tells a late duplicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.claims import Claims, take_group_change
from app.services.ledger import LedgerApplication
from domain.groups import ChangeOutcome, GroupAction, active_group_ids
from domain.organizer import Organizer, organizer_uuid
from projections.group_history import GroupChange, active_at, change_of, count_moves, group_names
from projections.group_history import GroupHistoryProjection as Model
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Change = tuple[str, GroupAction, datetime, str, str | None]

changes = st.lists(
    st.tuples(
        st.sampled_from(["g1", "g2", "g3"]),
        st.sampled_from(list(GroupAction)),
        st.integers(min_value=0, max_value=6).map(lambda m: T0 + timedelta(minutes=m)),
        st.one_of(st.none(), st.sampled_from(["Chess", "Choir"])),
    ),
    max_size=20,
).map(lambda items: [(g, a, t, f"chg-{i:03d}", n) for i, (g, a, t, n) in enumerate(items)])


def recorded(deliveries: list[Change]) -> tuple[Organizer, list[GroupChange]]:
    """The organizer after the deliveries, and the changes the read model would hold."""
    ledger = LedgerApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=SteppingClock(T0)
    )
    ledger.register_organizer("org-prop")
    for group, action, occurred_at, change_id, name in deliveries:

        def decide(
            org: Organizer,
            at: datetime,
            claims: Claims,
            *,
            change: Change = (group, action, occurred_at, change_id, name),
        ) -> ChangeOutcome:
            g, a, t, c, n = change
            return take_group_change(
                org, claims, action=a, group_id=g, change_id=c, occurred_at=t, at=at, group_name=n
            )

        ledger.update_claiming("org-prop", decide)
    events = ledger.repository.event_store.get(organizer_uuid("org-prop"))
    rows = [change_of(e) for e in events if type(e) in Model.handles]
    return ledger.get("org-prop"), rows


def in_time_order(rows: list[GroupChange]) -> list[GroupChange]:
    return sorted(rows, key=lambda c: (c.occurred_at, c.change_id))


def arrivals(original: list[Change]) -> st.SearchStrategy[list[Change]]:
    """The same changes in any order, some delivered twice."""
    again = st.lists(st.sampled_from(original), max_size=8) if original else st.just([])
    return again.flatmap(lambda extra: st.permutations([*original, *extra]))


@settings(max_examples=200)
@given(changes.flatmap(lambda original: st.tuples(st.just(original), arrivals(original))))
def test_any_arrival_order_records_the_same_changes(
    drawn: tuple[list[Change], list[Change]],
) -> None:
    original, deliveries = drawn
    organizer, rows = recorded(deliveries)
    _, in_order = recorded(original)
    assert in_time_order(rows) == in_time_order(in_order)
    assert group_names(rows) == group_names(in_order)
    for minute in range(8):
        at = T0 + timedelta(minutes=minute, seconds=30 * (minute % 2))
        assert active_at(rows, at) == active_group_ids(organizer.groups, at)


@settings(max_examples=200)
@given(changes, st.integers(0, 7), st.integers(0, 7))
def test_the_moves_between_two_instants_lead_from_one_count_to_the_other(
    original: list[Change], a: int, b: int
) -> None:
    _, rows = recorded(original)
    since, until = (T0 + timedelta(minutes=m) for m in sorted((a, b)))
    moves = [c for c in count_moves(rows) if since < c.occurred_at <= until]
    delta = sum(1 if c.active else -1 for c in moves)
    assert len(active_at(rows, since)) + delta == len(active_at(rows, until))
    moved_groups = {c.group_id for c in moves}
    changed = set(active_at(rows, since)) ^ set(active_at(rows, until))
    assert changed <= moved_groups
