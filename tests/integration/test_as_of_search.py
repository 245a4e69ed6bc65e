"""``get_as_of`` on real stores: the version its search finds for any instant is the one
a scan of the whole stream finds, however unevenly the history was recorded (bursts
and long quiet gaps mislead the interpolation on purpose)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.bootstrap import Container
from domain.groups import GroupAction
from domain.organizer import Organizer, organizer_uuid
from tests.support.clock import SteppingClock

ORGANIZER = "org-uneven"


def record_uneven_history(container: Container, clock: SteppingClock, changes: int) -> None:
    """Group toggles whose recording gaps are seconds in bursts, days between them, and
    sometimes zero (two events at the same instant)."""
    rnd = random.Random(7)
    active: set[str] = set()
    for index in range(changes):
        gap = rnd.choice((0, 1, 1, 2, 5, 86_400 * rnd.randint(1, 90)))
        clock.advance(timedelta(seconds=gap))
        group = f"g{rnd.randrange(6)}"
        action = GroupAction.DEACTIVATED if group in active else GroupAction.ACTIVATED
        active ^= {group}
        container.ledger.change_group(
            ORGANIZER,
            action=action,
            group_id=group,
            change_id=f"c{index}",
            occurred_at=clock.now,
        )


def recorded_times(container: Container) -> list[tuple[int, datetime]]:
    events = container.ledger.events.get(organizer_uuid(ORGANIZER))
    return [(e.originator_version, e.timestamp) for e in events if isinstance(e, Organizer.Event)]


class TestAsOfSearch:
    def test_the_version_at_any_instant_is_the_last_one_recorded_by_then(
        self, container: Container, clock: SteppingClock
    ) -> None:
        record_uneven_history(container, clock, changes=90)
        times = recorded_times(container)
        first, last = times[0][1], times[-1][1]
        ledger = container.ledger

        @settings(max_examples=60, deadline=None, derandomize=True)
        @given(
            st.sampled_from([t for _v, t in times])
            | st.datetimes(
                min_value=(first - timedelta(days=1)).replace(tzinfo=None),
                max_value=(last + timedelta(days=1)).replace(tzinfo=None),
            ).map(lambda naive: naive.replace(tzinfo=first.tzinfo))
        )
        def check(instant: datetime) -> None:
            expected = max((v for v, t in times if t <= instant), default=0)
            found = ledger.get_as_of(ORGANIZER, instant)
            if expected == 0:
                assert found is None
                return
            assert found is not None
            assert found.version == expected
            assert found == ledger.find(ORGANIZER, version=expected)

        check()
