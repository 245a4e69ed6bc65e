"""``ledger stripe setup | check | backfill``: the Stripe account the ledger runs on.

Exit codes: 0 done, nothing wrong · 1 something in the account would break the ledger
(``check``; ``setup`` when the price is wrong, which it cannot fix), Stripe failed, or
the store is not ready · 2 bad usage or argument · 78 no ``STRIPE_API_KEY``. Errors are
one line on stderr. See docs/stripe-setup.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.account import StripeAccount
from adapters.stripe.gateway import StripeCallError
from adapters.stripe.values import read_price
from app.bootstrap import bootstrap, gateway_from_settings
from app.entrypoints.cli.core import instant_argument
from app.entrypoints.cli.progress import progress_bar
from app.entrypoints.cli.reconcile import stripe_settings
from app.services.errors import NotReadyError
from app.services.prices import record_read_price
from app.services.stripe_account.backfill import BackfillError, backfill, clamp_since
from app.services.stripe_account.check import AccountSettings, check_account
from app.services.stripe_account.desired import Finding
from app.services.stripe_account.portal import billing_url
from app.services.stripe_account.setup import set_up
from app.settings import ConfigurationError, Settings

EXIT_FINDINGS = 1
EXIT_USAGE = 2


def url_argument(text: str) -> str:
    """argparse type: an absolute http(s) URL, as Stripe requires of an endpoint."""
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        msg = f"{text!r} is not an absolute http(s) URL (e.g. https://ledger.example.com/webhooks/stripe)"
        raise argparse.ArgumentTypeError(msg)
    return text


def register(commands: Any) -> None:
    stripe = commands.add_parser("stripe", help="set up and check the Stripe account")
    sub = stripe.add_subparsers(dest="stripe_command", required=True)

    setup = sub.add_parser(
        "setup", help="create or update the webhook endpoint and portal configuration"
    )
    setup.add_argument(
        "--url",
        required=True,
        type=url_argument,
        metavar="PUBLIC_WEBHOOK_URL",
        help="where Stripe sends events, e.g. https://ledger.example.com/webhooks/stripe",
    )
    setup.set_defaults(handler=run_setup)

    check = sub.add_parser("check", help="what in the account would break the ledger (exit 1)")
    check.add_argument(
        "--url",
        type=url_argument,
        metavar="PUBLIC_WEBHOOK_URL",
        help="the endpoint to check (default: the one `ledger stripe setup` marked)",
    )
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=run_check)

    fill = sub.add_parser("backfill", help="read the events Stripe kept into the inbox")
    fill.add_argument(
        "--since",
        required=True,
        type=instant_argument,
        metavar="ISO8601",
        help="the oldest event to read (Stripe keeps 30 days)",
    )
    fill.set_defaults(handler=run_backfill)


def account_settings(settings: Settings) -> AccountSettings:
    return AccountSettings(
        price_id=settings.stripe_price_id or None,
        portal_configuration=settings.stripe_portal_configuration,
        automatic_tax=settings.stripe_automatic_tax,
    )


@contextmanager
def stripe_account(settings: Settings) -> Iterator[StripeAccount]:
    gateway = gateway_from_settings(settings)
    if gateway is None:  # stripe_settings() checked the key; this keeps mypy honest
        msg = "STRIPE_API_KEY is not set"
        raise ConfigurationError(msg)
    try:
        yield StripeAccount(gateway)
    finally:
        gateway.close()


def _stripe_failed(error: StripeCallError) -> int:
    print(f"ledger: stripe: {error}", file=sys.stderr)
    return EXIT_FINDINGS


def run_setup(args: argparse.Namespace) -> int:
    settings = stripe_settings()
    try:
        with stripe_account(settings) as account:
            result = set_up(
                account,
                account_settings(settings),
                url=args.url,
                return_url=billing_url(settings.public_url),
            )
            _record_prices(settings, account.prices_read)
    except StripeCallError as error:
        return _stripe_failed(error)
    for change in result.changes or ["nothing to change"]:
        print(change)
    if result.secret is not None:
        print(f"signing secret (shown once; set STRIPE_WEBHOOK_SECRET to it): {result.secret}")
    if settings.stripe_portal_configuration != result.portal_configuration_id:
        configuration = result.portal_configuration_id
        print(f"portal configuration: set STRIPE_PORTAL_CONFIGURATION={configuration}")
    _print_findings(result.findings)
    return EXIT_FINDINGS if result.findings else 0


def run_check(args: argparse.Namespace) -> int:
    settings = stripe_settings()
    try:
        with stripe_account(settings) as account:
            findings = check_account(account, account_settings(settings), url=args.url)
            _record_prices(settings, account.prices_read)
    except StripeCallError as error:
        return _stripe_failed(error)
    if args.json:
        document = {"ok": not findings, "findings": [f.as_json() for f in findings]}
        sys.stdout.buffer.write(orjson.dumps(document) + b"\n")
    elif findings:
        _print_findings(findings)
    else:
        print("ok: the account has what the ledger needs")
    return EXIT_FINDINGS if findings else 0


def _record_prices(settings: Settings, prices: list[dict[str, Any]]) -> None:
    """Record the per-group price just read (the billing page's estimate reads it), when
    the store is migrated. Setup and check answer all the same without one."""
    path = settings.database.sqlite_path
    if not prices or (path is not None and not path.exists()):
        return  # opening the embedded store would create it: not this command's job
    container = bootstrap(settings, embedded_migrate=False)
    try:
        if not container.readiness().ready:
            return  # no ledger here (yet): the worker records the price when it starts
        for price in prices:
            record_read_price(container.ledger, read_price(price))
    except Exception as error:  # a note, never the failure of the command
        print(f"note: the price was not recorded in the ledger: {error}", file=sys.stderr)
    finally:
        container.close()


def _print_findings(findings: list[Finding]) -> None:
    for finding in findings:
        print(finding.line())


def run_backfill(args: argparse.Namespace) -> int:
    settings = stripe_settings()
    container = bootstrap(settings)
    try:
        now = container.clock()
        since, clamped_from = clamp_since(args.since, now)
        if clamped_from is not None:
            print(
                f"note: Stripe keeps events for 30 days: reading from {since.isoformat()}, "
                f"not {clamped_from.isoformat()}",
                file=sys.stderr,
            )
        readiness = container.readiness()
        if not readiness.ready:
            raise NotReadyError(readiness.reason)
        inbox = StripeInbox(container.database)
        with stripe_account(settings) as account, progress_bar("events") as bar:
            task = bar.add_task("reading Stripe events", total=None)
            result = backfill(
                account, inbox, since=since, now=now, on_event=lambda: bar.advance(task)
            )
    except BackfillError as error:
        print(f"ledger: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StripeCallError as error:
        return _stripe_failed(error)
    finally:
        container.close()
    print(result.summary())
    # Skipped events never reach the ledger: say so with the exit code too.
    return EXIT_FINDINGS if result.unreadable else 0
