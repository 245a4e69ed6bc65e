"""``ledger reconcile`` and ``ledger enroll-existing``: the ledger against Stripe.

Exit codes: 0 no drift (or, with ``--fix``, every difference corrected) · 1 drift
remains, or the organizer/subscription does not exist, or Stripe failed · 2 bad usage ·
78 no ``STRIPE_API_KEY``. Errors are one line on stderr. See docs/reconciliation.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.gateway import StripeCallError, StripeGateway
from app.bootstrap import Container, bootstrap
from app.entrypoints.cli.progress import progress_bar
from app.services.process.enroll import EnrollmentError, enroll_existing
from app.services.process.reconcile_run import Outcome, reconcile
from app.settings import ConfigurationError, Settings, load_settings

EXIT_DRIFT = 1
PIPED_WIDTH = 200  # rich assumes 80 columns off a terminal: too narrow for the ids
UNBROKEN = frozenset({"kind", "organizer", "subscription", "stripe", "ledger"})


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


def run_reconcile(args: argparse.Namespace) -> int:
    settings = stripe_settings()
    container = bootstrap(settings)
    gateway = stripe_gateway(container)
    try:
        outcome = reconcile(
            container, gateway, organizer_id=args.organizer, fix=args.fix, progress=_listing_bar
        )
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


@contextmanager
def _listing_bar() -> Iterator[Callable[[], None]]:
    with progress_bar("subscriptions") as bar:
        task = bar.add_task("listing Stripe", total=None)
        yield lambda: bar.advance(task)


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
