"""One ``reconcile`` run as a use case: list, compare and (``fix``) record and settle.

The CLI parses its flags, calls ``reconcile`` and renders the ``Outcome``; ``progress``
lets it show the listing as it goes without this module knowing about terminals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.stripe.gateway import StripeGateway
from app.services.ledger import LedgerApplication
from app.services.process.policy import RenewalPolicy
from app.services.process.reconcile import Difference, Reconciliation
from app.services.process.reconcile_fixes import FixResult, fix_results, record_fixes, settle
from app.settings import Settings

T = TypeVar("T")
Tick = Callable[[], None]
# Entered around the listing; the callable it yields is called once per subscription.
Progress = Callable[[], AbstractContextManager[Tick]]


class ReconcileDeps(Protocol):
    """What a run reads and (``fix``) writes through (the container satisfies it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def ledger(self) -> LedgerApplication: ...
    @property
    def database(self) -> SQLiteDatabase | PostgresDatabase: ...
    @property
    def group_price_ids(self) -> frozenset[str]: ...
    def renewal_policy(self) -> RenewalPolicy: ...


@dataclass
class Outcome:
    run_id: str
    compared: int
    differences: list[Difference]
    results: dict[Difference, FixResult]

    @property
    def unresolved(self) -> list[Difference]:
        return [d for d in self.differences if not (d in self.results and self.results[d].resolved)]


@contextmanager
def silent() -> Iterator[Tick]:
    yield lambda: None


def reconcile(
    deps: ReconcileDeps,
    gateway: StripeGateway,
    *,
    organizer_id: str | None,
    fix: bool,
    progress: Progress = silent,
) -> Outcome:
    """One run: list, compare and (``fix``) record the corrections and play them out."""
    settings = deps.settings
    ledger = deps.ledger
    run = Reconciliation(
        deps.database,
        ledger,
        gateway,
        minimum_quantity=settings.minimum_quantity,
        group_price_ids=deps.group_price_ids,
    )
    counted = [0]
    with progress() as tick:

        def listed() -> None:
            counted[0] += 1
            tick()

        differences = run.differences(_each(run.subscriptions(organizer_id), listed), organizer_id)
    results = _fix(deps, gateway, differences, run_id=run.run_id) if fix else {}
    return Outcome(run.run_id, counted[0], differences, results)


def _fix(
    deps: ReconcileDeps, gateway: StripeGateway, differences: list[Difference], *, run_id: str
) -> dict[Difference, FixResult]:
    """Record the corrections, play them out once in-process, and read back what they did."""
    settings, ledger = deps.settings, deps.ledger
    recorded = record_fixes(ledger, differences, run_id=run_id, minimum=settings.minimum_quantity)
    if any(r.drift in ("recorded", "in_flight") for r in recorded.values()):
        settle(
            deps.database,
            ledger,
            gateway,
            deps.renewal_policy(),
            batch_size=settings.projection_batch_size,
            concurrency=settings.stripe_max_concurrency,
        )
    return fix_results(ledger, differences, recorded)


def _each(items: Iterable[T], tick: Tick) -> Iterator[T]:
    for item in items:
        tick()
        yield item
