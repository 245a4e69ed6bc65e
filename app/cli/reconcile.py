"""``ledger reconcile`` and ``ledger enroll-existing``: the ledger against Stripe.

Exit codes: 0 no drift (or, with ``--fix``, every difference corrected) · 1 drift
remains, or the organizer/subscription does not exist, or Stripe failed · 2 bad usage ·
78 no ``STRIPE_API_KEY``. Errors are one line on stderr. See docs/reconciliation.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from rich.console import Console
from rich.table import Table

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.gateway import StripeCallError, StripeGateway
from adapters.stripe.translate import TranslationError
from app.bootstrap import Container, bootstrap
from app.cli.progress import progress_bar
from app.ledger import LedgerApplication
from app.process.reconcile import (
    Difference,
    Reconciliation,
    SubscriptionSource,
    read_subscription,
)
from app.process.reconcile_fixes import FixResult, fix_results, record_fixes, settle
from app.settings import ConfigurationError, Settings, load_settings
from domain.organizer import Organizer

EXIT_DRIFT = 1
PIPED_WIDTH = 200  # rich assumes 80 columns off a terminal: too narrow for the ids
UNBROKEN = frozenset({"kind", "organizer", "subscription", "stripe", "ledger"})
T = TypeVar("T")


class EnrollmentError(Exception):
    """An existing subscription that cannot be enrolled; the message says why."""


def register(commands: Any) -> None:
    reconcile = commands.add_parser(
        "reconcile", help="compare every Stripe subscription with the ledger (exit 1 on drift)"
    )
    reconcile.add_argument(
        "--organizer", metavar="ID", help="only this organizer (retrieves its subscription)"
    )
    reconcile.add_argument(
        "--fix",
        action="store_true",
        help="record each correctable difference and sync quantities through the process manager",
    )
    reconcile.add_argument("--json", action="store_true", help="print one JSON object")
    reconcile.set_defaults(handler=run_reconcile)

    enroll = commands.add_parser(
        "enroll-existing", help="link a subscription created before the ledger and backfill it"
    )
    enroll.add_argument("organizer_id", metavar="ORGANIZER_ID")
    enroll.add_argument("--subscription", required=True, metavar="sub_…")
    enroll.set_defaults(handler=run_enroll)


def stripe_settings() -> Settings:
    """Settings for a command that talks to Stripe: ``STRIPE_API_KEY`` is required."""
    settings = load_settings()
    key = settings.stripe_api_key
    if key is None or not key.get_secret_value().strip():
        msg = "STRIPE_API_KEY is not set (and STRIPE_API_BASE for the test double)"
        raise ConfigurationError(msg)
    return settings


def stripe_gateway(container: Container) -> StripeGateway:
    gateway = container.stripe_gateway()
    if gateway is None:  # stripe_settings() checked the key; this keeps mypy honest
        msg = "STRIPE_API_KEY is not set"
        raise ConfigurationError(msg)
    return gateway


# -- reconcile -----------------------------------------------------------------------


@dataclass
class Outcome:
    run_id: str
    compared: int
    differences: list[Difference]
    results: dict[Difference, FixResult]

    @property
    def unresolved(self) -> list[Difference]:
        return [d for d in self.differences if not (d in self.results and self.results[d].resolved)]


def run_reconcile(args: argparse.Namespace) -> int:
    settings = stripe_settings()
    container = bootstrap(settings)
    gateway = stripe_gateway(container)
    try:
        outcome = reconcile(container, gateway, organizer_id=args.organizer, fix=args.fix)
    except StripeCallError as error:
        print(f"ledger: stripe: {error}", file=sys.stderr)
        return EXIT_DRIFT
    finally:
        gateway.close()
        container.close()
    if args.json:
        _print_json(outcome, fixed=args.fix)
    else:
        _print_table(outcome, fixed=args.fix)
    return EXIT_DRIFT if outcome.unresolved else 0


def reconcile(
    container: Container, gateway: StripeGateway, *, organizer_id: str | None, fix: bool
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
    with progress_bar("subscriptions") as bar:
        task = bar.add_task("listing Stripe", total=None)

        def tick() -> None:
            counted[0] += 1
            bar.advance(task)

        differences = run.differences(_each(run.subscriptions(organizer_id), tick), organizer_id)
    results: dict[Difference, FixResult] = {}
    if fix:
        recorded = record_fixes(
            ledger, differences, run_id=run.run_id, minimum=settings.minimum_quantity
        )
        if any(r.drift in ("recorded", "in_flight") for r in recorded.values()):
            settle(
                container.database,
                ledger,
                gateway,
                container.renewal_policy(),
                batch_size=settings.projection_batch_size,
                concurrency=settings.stripe_max_concurrency,
            )
        results = fix_results(ledger, differences, recorded)
    return Outcome(run.run_id, counted[0], differences, results)


def _each(items: Iterable[T], tick: Callable[[], None]) -> Iterator[T]:
    for item in items:
        tick()
        yield item


def _print_json(outcome: Outcome, *, fixed: bool) -> None:
    rows = []
    for difference in outcome.differences:
        row: dict[str, Any] = difference.as_dict()
        result = outcome.results.get(difference)
        if fixed:
            row["fix"] = None if result is None else result.text
            row["resolved"] = result is not None and result.resolved
        rows.append(row)
    document = {
        "run_id": outcome.run_id,
        "subscriptions": outcome.compared,
        "drift": bool(outcome.unresolved),
        "differences": rows,
    }
    sys.stdout.write(orjson.dumps(document).decode() + "\n")


def _print_table(outcome: Outcome, *, fixed: bool) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPED_WIDTH)
    if not outcome.differences:
        console.print(f"no drift: {outcome.compared} subscription(s) match the ledger")
        return
    table = Table(title=f"{len(outcome.differences)} difference(s) — {outcome.run_id}")
    columns = ["kind", "organizer", "subscription", "stripe", "ledger", "correctable"]
    for column in [*columns, *(["fix"] if fixed else [])]:
        # Ids are what an operator copies into the next command: never cut them.
        table.add_column(column, no_wrap=column in UNBROKEN, overflow="fold")
    for d in outcome.differences:
        cells = [d.kind.value, d.organizer_id, d.subscription_id, d.stripe_value, d.ledger_value]
        row = ["—" if cell is None else str(cell) for cell in cells]
        row.append("yes" if d.correctable else "no")
        if fixed:
            result = outcome.results.get(d)
            row.append("—" if result is None else result.text)
        table.add_row(*row)
    console.print(table)
    remaining = len(outcome.unresolved)
    console.print(f"{outcome.compared} subscription(s) compared; {remaining} difference(s) remain")


# -- enroll-existing -----------------------------------------------------------------


@dataclass(frozen=True)
class Enrollment:
    organizer_id: str
    customer_id: str
    subscription_id: str
    status: str
    quantity: int
    recorded: int  # events recorded by this run (0: it was already enrolled)


def run_enroll(args: argparse.Namespace) -> int:
    container = bootstrap(stripe_settings())
    gateway = stripe_gateway(container)
    try:
        done = enroll_existing(
            container.ledger,
            StripeInbox(container.database),
            gateway,
            organizer_id=args.organizer_id,
            subscription_id=args.subscription,
        )
    except (EnrollmentError, StripeCallError) as error:
        print(f"ledger: enroll-existing: {error}", file=sys.stderr)
        return EXIT_DRIFT
    finally:
        gateway.close()
        container.close()
    what = f"recorded {done.recorded} event(s)" if done.recorded else "already enrolled"
    print(
        f"{done.organizer_id}: customer {done.customer_id}, subscription {done.subscription_id}"
        f" ({done.status}, quantity {done.quantity}); {what}"
    )
    return 0


def enroll_existing(
    ledger: LedgerApplication,
    inbox: StripeInbox,
    stripe: SubscriptionSource,
    *,
    organizer_id: str,
    subscription_id: str,
) -> Enrollment:
    """Link a subscription created before the ledger to an organizer (registered if new)
    and backfill its state from Stripe (source ``backfill:<sub>``); then write the links
    that route its later webhooks. Idempotent: a second run records nothing."""
    try:
        found = stripe.subscription(subscription_id)
    except StripeCallError as error:
        if error.status == 404:
            msg = f"no subscription {subscription_id!r} on Stripe"
            raise EnrollmentError(msg) from None
        raise
    try:
        read = read_subscription(found, observed_at=ledger.clock())
    except TranslationError as error:
        msg = f"subscription {subscription_id!r} cannot be read: {error}"
        raise EnrollmentError(msg) from None
    if read is None or read.customer_id is None:
        msg = f"subscription {subscription_id!r} has no per-group item"
        raise EnrollmentError(msg)
    customer_id = read.customer_id
    for stripe_id in (subscription_id, customer_id):
        owner = inbox.organizer_for([stripe_id])
        if owner not in (None, organizer_id):
            msg = f"{stripe_id} is already linked to organizer {owner!r}"
            raise EnrollmentError(msg)
    if read.organizer_hint not in (None, organizer_id):
        msg = f"{subscription_id}'s metadata names organizer {read.organizer_hint!r}"
        raise EnrollmentError(msg)
    source = f"backfill:{subscription_id}"
    existing = ledger.find(organizer_id)
    version_before = 0 if existing is None else existing.version

    def backfill(organizer: Organizer, at: datetime) -> None:
        if organizer.stripe_customer_id not in (None, customer_id):
            msg = f"organizer {organizer_id!r} already has customer {organizer.stripe_customer_id}"
            raise EnrollmentError(msg)
        organizer.link_stripe_customer(customer_id, source=source, at=at)
        organizer.observe_subscription(read.snapshot, source=source, at=at)

    ledger.update(organizer_id, backfill, register=True)
    inbox.link("customer", customer_id, organizer_id, source)
    inbox.link("subscription", subscription_id, organizer_id, source)
    snapshot = read.snapshot
    return Enrollment(
        organizer_id,
        customer_id,
        subscription_id,
        snapshot.status,
        snapshot.quantity,
        ledger.get(organizer_id).version - version_before,
    )
