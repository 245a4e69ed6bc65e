"""One ``reconcile`` run as a use case: list, compare and (``fix``) record and settle.

The CLI parses its flags, calls ``reconcile`` and renders the ``Outcome``; ``progress``
lets it show the listing as it goes without this module knowing about terminals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TypeVar

from adapters.stripe.gateway import StripeGateway
from app.bootstrap import Container
from app.services.process.reconcile import Difference, Reconciliation
from app.services.process.reconcile_fixes import FixResult, fix_results, record_fixes, settle

T = TypeVar("T")
Tick = Callable[[], None]
# Entered around the listing; the callable it yields is called once per subscription.
Progress = Callable[[], AbstractContextManager[Tick]]


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
    container: Container,
    gateway: StripeGateway,
    *,
    organizer_id: str | None,
    fix: bool,
    progress: Progress = silent,
) -> Outcome:
    """One run: list, compare and (``fix``) record the corrections and play them out."""
    settings = container.settings
    ledger = container.ledger
    run = Reconciliation(
        container.database,
        ledger,
        gateway,
        minimum_quantity=settings.minimum_quantity,
        group_price_ids=container.group_price_ids,
    )
    counted = [0]
    with progress() as tick:

        def listed() -> None:
            counted[0] += 1
            tick()

        differences = run.differences(_each(run.subscriptions(organizer_id), listed), organizer_id)
    results = _fix(container, gateway, differences, run_id=run.run_id) if fix else {}
    return Outcome(run.run_id, counted[0], differences, results)


def _fix(
    container: Container, gateway: StripeGateway, differences: list[Difference], *, run_id: str
) -> dict[Difference, FixResult]:
    """Record the corrections, play them out once in-process, and read back what they did."""
    settings, ledger = container.settings, container.ledger
    recorded = record_fixes(ledger, differences, run_id=run_id, minimum=settings.minimum_quantity)
    if any(r.drift in ("recorded", "in_flight") for r in recorded.values()):
        settle(
            container.database,
            ledger,
            gateway,
            container.renewal_policy(),
            batch_size=settings.projection_batch_size,
            concurrency=settings.stripe_max_concurrency,
        )
    return fix_results(ledger, differences, recorded)


def _each(items: Iterable[T], tick: Tick) -> Iterator[T]:
    for item in items:
        tick()
        yield item
