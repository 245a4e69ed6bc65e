"""eventsourcing's ``Repository``, rebuilding aggregates without a per-event type check.

The library's default projector (``eventsourcing.application.project_aggregate``) asserts
``isinstance(event, CanMutateProtocol)`` for every event it applies: a runtime check
against a ``typing`` Protocol, which walks the protocol's members each time. Measured
with cProfile on ``get_as_of`` (benchmarks/replay.py, a 10,000-event organizer), it was
about a fifth of rebuilding an organizer from its nearest snapshot. Every event this
store decodes is a domain event with ``mutate`` (the transcoder resolves topics to the
event classes of the ledger's aggregates: organizers, input claims, prices), so the
check can never fail here: the projector below applies the events in order and nothing
else. Everything else about the repository (snapshots, cache, fast-forward) is the
library's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository


def apply_in_order(aggregate: Any, events: Iterable[Any]) -> Any:
    """``project_aggregate`` without its runtime Protocol assertion."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class LedgerRepository(Repository[UUID]):
    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = apply_in_order,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        return super().get(
            aggregate_id,
            version=version,
            projector_func=projector_func,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=deepcopy_from_cache,
        )

    @classmethod
    def like(cls, base: Repository[UUID]) -> LedgerRepository:
        """The same stores and cache settings as the library's ``base``."""
        repository = cls(
            base.event_store,
            snapshot_store=base.snapshot_store,
            fastforward=base.fastforward,
            fastforward_skipping=base.fastforward_skipping,
            deepcopy_from_cache=base.deepcopy_from_cache,
        )
        repository.cache = base.cache
        return repository
