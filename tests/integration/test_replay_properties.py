"""Property: replaying any prefix of a history twice (with any batching) yields
identical read models."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.bootstrap import bootstrap
from app.settings import load_settings
from projections.base import ReadModel
from projections.runner import LogReader, build_read_models
from projections.view import TableChecksum
from tests.support.histories import seed_history


def build(reader: LogReader, models: list[ReadModel], prefix: int, batch: int) -> None:
    position = 0
    while position < prefix:
        events = reader.after(position, limit=min(batch, prefix - position))
        if not events:
            return
        for model in models:
            model.process_batch(events)
        position = events[-1][1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.integers(5, 80),
    seed=st.integers(0, 10_000),
    prefix_fraction=st.floats(0, 1),
    batches=st.tuples(st.integers(1, 50), st.integers(1, 50)),
)
def test_any_prefix_replayed_twice_gives_identical_read_models(
    steps: int, seed: int, prefix_fraction: float, batches: tuple[int, int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        container = bootstrap(load_settings(database_url=f"sqlite:///{Path(folder) / 'l.db'}"))
        try:
            seed_history(container.ledger, organizers=3, steps=steps, seed=seed)
            last = container.ledger.recorder.max_notification_id() or 0
            prefix = round(last * prefix_fraction)
            reader = LogReader(container.ledger)
            results: list[list[TableChecksum]] = []
            for suffix, batch in zip(("__a", "__b"), batches, strict=True):
                models = build_read_models(container.database, minimum_quantity=1, suffix=suffix)
                for model in models:
                    model.view.create_tables()
                build(reader, models, prefix, batch)
                results.append([c for m in models for c in m.view.checksums()])
            assert results[0] == results[1]
            assert sum(c.rows for c in results[0]) > 0 or prefix == 0
        finally:
            container.close()
