"""``ledger worker`` and the inbox commands for operators."""

from __future__ import annotations

import argparse
import gc
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.table import Table

from adapters.observability.logs import configure_logging
from adapters.persistence.inbox import InboxRow, StripeInbox
from app.bootstrap import Container, bootstrap
from app.entrypoints.cli.core import instant_argument
from app.entrypoints.cli.render import print_table
from app.entrypoints.worker.worker import Worker
from app.services.intake.stripe_inbox import InboxProcessor
from app.settings import load_settings
from projections.times import format_instant


def register(commands: Any) -> None:
    worker = commands.add_parser("worker", help="translate the Stripe inbox (runs until SIGTERM)")
    worker.set_defaults(handler=run_worker)

    inbox = commands.add_parser("inbox", help="inspect and reprocess archived Stripe deliveries")
    inbox_commands = inbox.add_subparsers(dest="inbox_command", required=True)
    listing = inbox_commands.add_parser("list", help="list deliveries")
    listing.add_argument(
        "--status", choices=["pending", "processed", "ignored", "parked", "failed"]
    )
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=run_inbox_list)

    again = inbox_commands.add_parser(
        "reprocess", help="translate archived deliveries again (idempotent)"
    )
    again.add_argument(
        "--since",
        type=instant_argument,
        metavar="ISO8601",
        help="deliveries Stripe created at or after this instant",
    )
    again.add_argument(
        "--id",
        action="append",
        dest="ids",
        metavar="EVENT_ID",
        help="a delivery's Stripe event id (repeatable)",
    )
    again.set_defaults(handler=run_inbox_reprocess)


def run_worker(_: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    container = bootstrap(settings)
    worker = Worker(container)
    worker.install_signal_handlers()
    # What start-up built (modules, the SDK, the settings, the pools) lives as long as the
    # process: frozen, Python's full collections no longer walk it. Each stops every
    # thread, Stripe senders included, for as long as the walk takes (issue 12).
    gc.collect()
    gc.freeze()
    try:
        return worker.run()
    finally:
        container.close()


def run_inbox_list(args: argparse.Namespace) -> int:
    container = bootstrap(load_settings())
    try:
        rows = StripeInbox(container.database).rows(status=args.status, limit=args.limit)
    finally:
        container.close()
    if args.json:
        for row in rows:
            sys.stdout.write(orjson.dumps(_summary(row)).decode() + "\n")
        return 0
    table = Table(title=f"Stripe inbox ({len(rows)} shown)")
    for column in ("event id", "type", "created", "status", "organizer"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for row in rows:
        s = _summary(row)
        table.add_row(
            s["event_id"], s["type"], s["created"], s["status"], s["organizer_id"] or "—",
            s["reason"] or "",
        )  # fmt: skip
    print_table(table)
    return 0


def _summary(row: InboxRow) -> dict[str, Any]:
    d = row.delivery
    return {
        "event_id": d.event_id,
        "type": d.type,
        # Stripe sends unix seconds; people and ``--since`` read ISO 8601 (UTC, ``Z``).
        "created": format_instant(datetime.fromtimestamp(d.created, UTC)),
        "api_version": d.api_version,
        "received_at": format_instant(datetime.fromisoformat(d.received_at)),
        "status": row.status,
        "reason": row.reason,
        "attempts": row.attempts,
        "organizer_id": row.organizer_id,
    }


def run_inbox_reprocess(args: argparse.Namespace) -> int:
    container = bootstrap(load_settings())
    try:
        return _reprocess(container, args)
    finally:
        container.close()


def _reprocess(container: Container, args: argparse.Namespace) -> int:
    inbox = StripeInbox(container.database)
    if args.ids:
        rows = [row for event_id in args.ids if (row := inbox.get(event_id)) is not None]
        missing = set(args.ids) - {row.delivery.event_id for row in rows}
        if missing:
            print(f"ledger: unknown delivery {sorted(missing)[0]!r}", file=sys.stderr)
            return 1
    else:
        since = int(args.since.timestamp()) if args.since else None
        rows = inbox.rows(since=since, limit=1_000_000)
    processor = InboxProcessor(
        container.ledger,
        inbox,
        group_price_ids=container.group_price_ids,
        lines=container.gateway,
    )
    counts: dict[str, int] = {}
    for _, outcome in processor.reprocess(rows):
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
    print(f"reprocessed {len(rows)} deliveries: {summary}")
    return 0
