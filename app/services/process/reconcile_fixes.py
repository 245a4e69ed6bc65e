"""``--fix``: turn reconciliation differences into recorded facts, then let them play out.

Per organizer, in one save: the subscription as listed, when the ledger's picture of it
differs (``SubscriptionObserved``, source ``reconcile:<run>:<sub>``), and for a quantity
difference a ``DriftDetected`` (source ``reconcile:<run>``). The renewal process manager
reacts to the drift like to any renewal trigger: a ``RenewalQuantityChecked`` with trigger
``drift``, a ``QuantitySyncRequested`` with its deterministic idempotency key, and the
sender's confirmation. ``settle`` runs those steps once in-process, so the CLI leaves Stripe
corrected without a worker; with a worker running, both converge on the same keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from app.services.ledger import LedgerApplication
from app.services.process.manager import QuantityPort, RenewalReactor, SyncSender
from app.services.process.policy import RenewalPolicy
from app.services.process.reconcile import Difference, DifferenceKind
from domain.organizer import Organizer
from projections.runner import LogReader, build_read_models, catch_up


@dataclass(frozen=True)
class Recorded:
    """What --fix recorded for one organizer (``version_before``: where to look after)."""

    organizer_id: str
    version_before: int
    observed: bool | None  # None: the ledger's picture already matched the listing
    drift: str  # "recorded", "in_flight" (a sync to the target is pending) or "gone"


@dataclass(frozen=True)
class FixResult:
    resolved: bool
    text: str


def record_fixes(
    ledger: LedgerApplication, differences: Iterable[Difference], *, run_id: str, minimum: int
) -> dict[str, Recorded]:
    """Record the facts that correct each organizer's differences (one save each)."""
    by_organizer: dict[str, list[Difference]] = defaultdict(list)
    for difference in differences:
        if difference.correctable and difference.organizer_id and difference.snapshot:
            by_organizer[difference.organizer_id].append(difference)
    return {
        organizer_id: ledger.update(
            organizer_id, partial(_fix, found, run_id=run_id, minimum=minimum)
        )
        for organizer_id, found in by_organizer.items()
    }


def _fix(
    found: list[Difference], organizer: Organizer, at: datetime, *, run_id: str, minimum: int
) -> Recorded:
    before = organizer.version
    observed = None
    # One observation per listed subscription (an organizer may have two, issue 13).
    for listed in {d.subscription_id: d.snapshot for d in found}.values():
        if listed is None:
            msg = "a correctable difference carries the listed subscription"
            raise ValueError(msg)
        current = organizer.observed_subscription(listed.subscription_id)
        # Re-observing facts the ledger already holds would only add a redundant event.
        if current is None or not listed.same_facts(current):
            source = f"{run_id}:{listed.subscription_id}"
            taken = organizer.observe_subscription(listed, source=source, at=at)
            observed = taken or bool(observed)
    drift = "gone"
    quantity = next((d for d in found if d.kind is DifferenceKind.QUANTITY), None)
    if quantity is not None and quantity.snapshot is not None:
        listed = quantity.snapshot
        if _sync_in_flight(organizer, minimum):
            # The sender is on it (or retrying); another drift would only supersede it.
            drift = "in_flight"
        elif organizer.detect_drift(
            billed_quantity=listed.quantity, source=run_id, minimum=minimum, at=at
        ):
            drift = "recorded"
    return Recorded(organizer.platform_organizer_id, before, observed, drift)


def _sync_in_flight(organizer: Organizer, minimum: int) -> bool:
    target = organizer.billable_quantity(minimum=minimum)
    return any(
        sync["status"] in ("pending", "retrying") and sync["quantity"] == target
        for sync in organizer.syncs.values()
    )


def settle(
    database: SQLiteDatabase | PostgresDatabase,
    ledger: LedgerApplication,
    port: QuantityPort,
    policy: RenewalPolicy,
    *,
    batch_size: int = 1000,
    concurrency: int = 4,
) -> int:
    """Do once what the worker's loops do continuously: react to the log, bring the read
    models up to date, send due syncs. Safe beside a running worker: reactions are decided
    once per cause, positions only move forward, and a sync sent twice carries the same
    idempotency key. Returns how many syncs were sent."""
    reader = LogReader(ledger, batch_size)
    models = build_read_models(database, minimum_quantity=policy.minimum_quantity)
    catch_up(reader, [RenewalReactor(database, ledger, policy)])
    catch_up(reader, models)
    sender = SyncSender(database, ledger, port, policy, concurrency=concurrency)
    try:
        sent = sender.run_once()
    finally:
        sender.close()
    catch_up(reader, models)  # the confirmations, for the audit trail
    return sent


def fix_results(
    ledger: LedgerApplication, differences: Iterable[Difference], recorded: Mapping[str, Recorded]
) -> dict[Difference, FixResult]:
    """What --fix achieved for each difference, read back from the organizers' streams."""
    results: dict[Difference, FixResult] = {}
    for difference in differences:
        done = recorded.get(difference.organizer_id or "")
        if done is None or not difference.correctable:
            results[difference] = FixResult(False, "reported only")
        elif difference.kind is DifferenceKind.QUANTITY:
            results[difference] = _quantity_result(ledger, done)
        elif done.observed is None:
            results[difference] = FixResult(True, "already current")
        elif done.observed:
            results[difference] = FixResult(True, "re-observed")
        else:
            stale = "not applied: the ledger has a newer observation"
            results[difference] = FixResult(False, stale)
    return results


def _quantity_result(ledger: LedgerApplication, done: Recorded) -> FixResult:
    if done.drift == "in_flight":
        return FixResult(False, "a sync to the billable quantity is already pending")
    if done.drift == "gone":
        return FixResult(True, "no drift any more")
    organizer = ledger.get(done.organizer_id)
    check: Any = None
    sync_id: str | None = None
    for event in ledger.events.get(organizer.id, gt=done.version_before):
        if isinstance(event, Organizer.RenewalQuantityChecked) and event.trigger == "drift":
            check = check or event
        elif isinstance(event, Organizer.QuantitySyncRequested) and event.trigger == "drift":
            sync_id = sync_id or event.sync_id
    if check is None:
        return FixResult(False, "drift recorded; the worker will request the sync")
    if sync_id is None:
        return FixResult(False, f"not corrected: {check.outcome} ({check.reason})")
    sync = organizer.syncs[sync_id]
    if sync["status"] == "confirmed":
        return FixResult(True, f"synced to {sync['quantity']}")
    error = f": {sync['error']}" if sync["error"] else ""
    return FixResult(False, f"sync to {sync['quantity']} {sync['status']}{error}")
