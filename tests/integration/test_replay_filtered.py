"""A rebuild reads only the topics some read model decides about (projections/runner.py
``rebuild``), yet ends where an unfiltered read of the whole log would: same rows, same
positions, nothing committed during it skipped. Both stores."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from app.bootstrap import Container
from domain.claims import InputClaim
from domain.groups import GroupAction
from projections.base import ReadModel
from projections.runner import LogReader, build_read_models, catch_up, rebuild
from projections.view import REBUILD_SUFFIX, TableChecksum
from tests.support.histories import T0, seed_history

BATCH = 7  # small, so that a stretch of claims outlasts a whole batch


def live_models(container: Container) -> list[ReadModel]:
    return build_read_models(container.database, minimum_quantity=1)


def fresh_rebuild_models(container: Container) -> list[ReadModel]:
    models = build_read_models(container.database, minimum_quantity=1, suffix=REBUILD_SUFFIX)
    for model in models:
        model.view.drop_tables()
        model.view.create_tables()
    return models


def save_claims_only(container: Container, count: int) -> None:
    """A stretch of log that holds input claims and nothing else."""
    organizer = uuid4()
    claims = [
        InputClaim.claim(organizer, f"test:{i}", "applied", at=T0 + timedelta(seconds=i))
        for i in range(count)
    ]
    container.ledger.save(*claims)


def state(models: list[ReadModel]) -> list[tuple[int | None, list[TableChecksum]]]:
    return [(m.view.max_tracking_id(), m.view.checksums()) for m in models]


def change_group(container: Container, change_id: str) -> None:
    container.ledger.change_group(
        "org-late", action=GroupAction.ACTIVATED, group_id="g1", change_id=change_id, occurred_at=T0
    )


class TestFilteredRebuild:
    def test_positions_reach_the_end_of_a_log_that_ends_in_claims(
        self, container: Container
    ) -> None:
        seed_history(container.ledger, organizers=3, steps=40)
        save_claims_only(container, 3 * BATCH)
        live = live_models(container)
        catch_up(LogReader(container.ledger, batch_size=BATCH), live)
        rebuilt = fresh_rebuild_models(container)
        read = rebuild(LogReader(container.ledger, batch_size=BATCH), rebuilt)
        end = container.ledger.recorder.max_notification_id()
        assert state(rebuilt) == state(live)
        assert {m.view.max_tracking_id() for m in rebuilt} == {end}
        assert end is not None
        assert read < end  # the claims were left out

    def test_an_event_committed_during_the_rebuild_after_only_claims_is_applied(
        self, container: Container
    ) -> None:
        seed_history(container.ledger, organizers=3, steps=40)
        save_claims_only(container, 3 * BATCH)
        rebuilt = fresh_rebuild_models(container)
        late: list[int] = []

        def commit_one_more(_count: int, position: int) -> None:
            if not late:  # while the first batch is applied: after the rebuild's end
                change_group(container, "late-1")
                late.append(position)

        rebuild(LogReader(container.ledger, batch_size=BATCH), rebuilt, progress=commit_one_more)
        live = live_models(container)
        catch_up(LogReader(container.ledger, batch_size=BATCH), live)
        assert late
        assert state(rebuilt) == state(live)
        (renewal,) = [m for m in rebuilt if m.name == "renewals"]
        with container.database.transaction() as cursor:
            rows = cursor.execute(
                f"SELECT active_groups FROM {renewal.t('rm_renewals')}"
                " WHERE organizer_id = 'org-late'"
            ).fetchall()
        assert [row["active_groups"] for row in rows] == [1]

    def test_a_rebuild_continued_later_takes_what_came_since(self, container: Container) -> None:
        seed_history(container.ledger, organizers=2, steps=20)
        rebuilt = fresh_rebuild_models(container)
        rebuild(LogReader(container.ledger, batch_size=BATCH), rebuilt)
        save_claims_only(container, 2 * BATCH)
        change_group(container, "later-1")
        save_claims_only(container, BATCH)
        rebuild(LogReader(container.ledger, batch_size=BATCH), rebuilt)
        live = live_models(container)
        catch_up(LogReader(container.ledger, batch_size=BATCH), live)
        assert state(rebuilt) == state(live)
