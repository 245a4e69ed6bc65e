"""Each read model on both stores: catch-up, exactly-once batches, replay and verify."""

from __future__ import annotations

import orjson
import pytest

from app.bootstrap import Container
from domain.groups import GroupAction
from projections.quarantine import quarantined
from projections.runner import LogReader, build_read_models, catch_up, replay
from tests.support.histories import T0, seed_history


def models(container: Container, names: list[str] | None = None) -> list:  # type: ignore[type-arg]
    return build_read_models(container.database, minimum_quantity=1, names=names)


def rows(container: Container, sql: str) -> list[dict[str, object]]:
    with container.database.transaction() as cursor:
        return [dict(r) for r in cursor.execute(sql).fetchall()]


class TestRenewals:
    def test_counts_groups_and_flags_drift(self, container: Container) -> None:
        ledger = container.ledger
        for i in range(3):
            ledger.change_group(
                "org-1",
                action=GroupAction.ACTIVATED,
                group_id=f"g{i}",
                change_id=f"c{i}",
                occurred_at=T0,
            )
        seed_history(ledger, organizers=1, steps=0)
        catch_up(LogReader(ledger), models(container))
        (row,) = rows(container, "SELECT * FROM rm_renewals")
        assert (row["organizer_id"], row["active_groups"], row["billable_quantity"]) == (
            "org-1",
            3,
            3,
        )
        assert row["drift"] == 0


class TestAuditLedger:
    def test_one_row_per_fact_in_log_order_with_its_cause(self, container: Container) -> None:
        ledger = container.ledger
        ledger.change_group(
            "org-1", action=GroupAction.ACTIVATED, group_id="g1", change_id="c1", occurred_at=T0
        )
        ledger.change_group(
            "org-1",
            action=GroupAction.DEACTIVATED,
            group_id="g1",
            change_id="c0",
            occurred_at=T0.replace(year=2025),
        )  # stale
        catch_up(LogReader(ledger), models(container))
        entries = rows(container, "SELECT * FROM rm_audit_entries ORDER BY position, seq")
        assert [e["kind"] for e in entries] == ["group_activated", "stale_change_ignored"]
        assert entries[0]["cause"] == "platform change c1"
        assert orjson.loads(str(entries[1]["details"]))["superseded_by"] == "c1"


class TestExactlyOnce:
    def test_a_batch_applied_twice_changes_nothing_the_second_time(
        self, container: Container
    ) -> None:
        seed_history(container.ledger, organizers=3, steps=40)
        reader = LogReader(container.ledger)
        batch = reader.after(None, limit=10_000)
        all_models = models(container)
        assert all(m.process_batch(batch) == len(batch) for m in all_models)
        before = [m.view.checksums() for m in all_models]
        assert all(m.process_batch(batch) == 0 for m in all_models)
        assert [m.view.checksums() for m in all_models] == before

    def test_another_streams_event_moves_the_position_without_reaching_apply(
        self, container: Container, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seed_history(container.ledger, organizers=1, steps=3)
        batch = LogReader(container.ledger).after(None, limit=10_000)
        (model,) = models(container, ["renewals"])
        applied: list[object] = []
        monkeypatch.setattr(model, "apply", lambda _cursor, events: applied.extend(events))
        other = (object(), batch[-1][1] + 1)  # a class no read model has decided about
        assert model.process_batch([*batch, other]) == len(batch) + 1
        decided = model.handles | model.IGNORED
        assert applied == [pair for pair in batch if type(pair[0]) in decided]
        assert applied
        assert model.view.max_tracking_id() == other[1]


@pytest.mark.parametrize("name", ["renewals", "audit", "summary", "syncs", "invoices"])
class TestReplay:
    def test_verify_finds_live_and_rebuilt_identical(self, container: Container, name: str) -> None:
        seed_history(container.ledger, organizers=4, steps=60)
        catch_up(LogReader(container.ledger, batch_size=7), models(container))
        (result,) = replay(
            container.ledger, container.database, [name], minimum_quantity=1, verify=True
        )
        assert result.identical, (result.live, result.rebuilt)
        assert any(c.rows for c in result.live)

    def test_replay_swaps_in_a_rebuilt_model_equal_to_the_live_one(
        self, container: Container, name: str
    ) -> None:
        seed_history(container.ledger, organizers=4, steps=60)
        (live,) = models(container, [name])
        catch_up(LogReader(container.ledger), [live])
        before = live.view.checksums()
        with container.database.transaction() as cursor:  # damage the live read model
            cursor.execute(f"DELETE FROM {live.tables[0].name}")
        replay(container.ledger, container.database, [name], minimum_quantity=1)
        assert live.view.checksums() == before
        assert live.view.max_tracking_id() == container.ledger.recorder.max_notification_id()


def test_all_read_models_are_rebuilt_in_one_pass_and_swapped_together(
    container: Container,
) -> None:
    seed_history(container.ledger, organizers=4, steps=60)
    live = models(container)
    catch_up(LogReader(container.ledger), live)
    # Every event of a realistic history is taken, none quarantined (a model that fails
    # on a kind of event would otherwise pass: rebuild and live quarantine alike).
    assert quarantined(container.database) == []
    before = [m.view.checksums() for m in live]
    names = [m.name for m in live]
    results = replay(container.ledger, container.database, names, minimum_quantity=1, verify=True)
    assert [r.name for r in results] == names
    assert all(r.identical for r in results)
    with container.database.transaction() as cursor:
        cursor.execute("DELETE FROM rm_renewals")
        cursor.execute("DELETE FROM rm_audit_entries")
    assert replay(container.ledger, container.database, names, minimum_quantity=1) == []
    assert [m.view.checksums() for m in live] == before
