"""``ledger ops failures|retry|drafts|at-risk|quarantine``: what operators see and do about
syncs, renewals at risk and inputs the worker set aside.

``failures``, ``drafts`` and ``at-risk`` print whole lists (a table, or ``--json``: one JSON array
of the API's entries). ``retry`` records a retry of a failed sync; the worker sends it.
Exit codes: 0 ok · 1 unknown sync, a sync that is not an open failure, or the store is
not ready · 2 bad usage · 78 bad configuration.
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

from app.bootstrap import Container, bootstrap
from app.services.errors import NotReadyError
from app.services.ops.at_risk import all_at_risk
from app.services.ops.drafts import all_drafts
from app.services.ops.failures import FailureFilter, all_failures
from app.services.ops.quarantine import quarantined_inputs
from app.services.ops.retry import SyncNotRetryableError, UnknownSyncError, request_retry
from app.services.process.manager import RenewalReactor
from app.settings import load_settings

EXIT_NOT_FOUND = 1
PIPED_WIDTH = 200  # rich assumes 80 columns off a terminal: too narrow for the ids
Row = dict[str, Any]


def short_time(value: str | None) -> str:
    """``2026-12-25T23:25:00.000000Z`` → ``2026-12-25 23:25Z`` (``--json`` has it all)."""
    return "—" if value is None else f"{value[:10]} {value[11:16]}Z"


# (heading, cell) per column: what fits a terminal; ``--json`` has every field.
FAILURE_TABLE: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("sync", lambda r: r["sync_id"]),
    ("organizer", lambda r: r["organizer_id"]),
    ("status", lambda r: r["status"]),
    ("quantity", lambda r: f"{r['previous_quantity']} → {r['quantity']}"),
    ("tries", lambda r: str(r["attempts"])),
    ("renewal", lambda r: short_time(r["period_end"])),
    ("last error", lambda r: r["last_error"] or "—"),
)
FOLLOWED_BY: tuple[str, Callable[[Row], str]] = (
    "followed by",
    lambda r: f"{r['later_sync_id']} ({r['later_sync_status']})" if r["later_sync_id"] else "—",
)
DRAFT_TABLE: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("invoice", lambda r: r["invoice_id"]),
    ("organizer", lambda r: r["organizer_id"]),
    ("subscription", lambda r: r["subscription_id"]),
    ("period start", lambda r: short_time(r["period_start"])),
    ("billed", lambda r: str(r["billed_quantity"])),
    ("expected", lambda r: str(r["expected_quantity"])),
    ("reported", lambda r: short_time(r["reported_at"])),
)
AT_RISK_TABLE: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("renewal", lambda r: short_time(r["renewal_at"])),
    ("organizer", lambda r: r["organizer_id"]),
    ("kind", lambda r: r["kind"]),
    ("subject", lambda r: r["subject"]),
    ("reason", lambda r: r["reason"]),
)
QUARANTINE_TABLE: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("kind", lambda r: r["kind"]),
    ("id", lambda r: r["id"]),
    ("where", lambda r: r["where"]),
    ("error", lambda r: r["error"]),
    ("retry with", lambda r: r["retry"]),
)
# Ids are what an operator copies into ``ledger ops retry``: never cut them.
UNBROKEN = frozenset(
    {"sync", "organizer", "invoice", "subscription", "followed by", "status", "renewal", "id"}
    | {"subject"}
)


def register(commands: Any) -> None:
    ops = commands.add_parser(
        "ops", help="failed quantity syncs, retries, mismatched drafts, renewals at risk"
    )
    ops_commands = ops.add_subparsers(dest="ops_command", required=True)

    failures = ops_commands.add_parser(
        "failures", help="failed quantity syncs that no newer sync follows yet"
    )
    failures.add_argument(
        "--include-retrying", action="store_true", help="also syncs Stripe refused for now"
    )
    failures.add_argument(
        "--include-retried",
        action="store_true",
        help="also failures a retry or newer decision already follows",
    )
    failures.add_argument("--json", action="store_true", help="print one JSON array")
    failures.set_defaults(handler=run_failures)

    retry = ops_commands.add_parser("retry", help="retry a failed sync (a new request)")
    retry.add_argument("sync_id", metavar="SYNC_ID")
    retry.set_defaults(handler=run_retry)

    drafts = ops_commands.add_parser(
        "drafts", help="renewal drafts billed at another quantity than expected"
    )
    drafts.add_argument("--json", action="store_true", help="print one JSON array")
    drafts.set_defaults(handler=run_drafts)

    at_risk = ops_commands.add_parser(
        "at-risk", help="renewals that may bill other than their groups, and why"
    )
    at_risk.add_argument("--json", action="store_true", help="print one JSON array")
    at_risk.set_defaults(handler=run_at_risk)

    held = ops_commands.add_parser(
        "quarantine", help="inputs the worker set aside after they kept failing"
    )
    held.add_argument("--json", action="store_true", help="print one JSON array")
    held.add_argument(
        "--retry-reactions",
        action="store_true",
        help="react again to quarantined process-manager events (after a fix)",
    )
    held.set_defaults(handler=run_quarantine)


@contextmanager
def ready_container() -> Iterator[Container]:
    """A container on a reachable, migrated store (else :class:`NotReadyError`)."""
    container = bootstrap(load_settings())
    try:
        readiness = container.readiness()
        if not readiness.ready:
            raise NotReadyError(readiness.reason)
        yield container
    finally:
        container.close()


def run_failures(args: argparse.Namespace) -> int:
    failure_filter = FailureFilter(
        include_retrying=args.include_retrying, include_retried=args.include_retried
    )
    with ready_container() as container:
        failures = all_failures(container.database, failure_filter)
    columns = (*FAILURE_TABLE, FOLLOWED_BY) if args.include_retried else FAILURE_TABLE
    _print(failures, columns, title="Sync failures", as_json=args.json)
    return 0


def run_retry(args: argparse.Namespace) -> int:
    try:
        with ready_container() as container:
            retry = request_retry(container.database, container.ledger, args.sync_id)
    except UnknownSyncError:
        return _fail(f"unknown sync {args.sync_id!r}")
    except SyncNotRetryableError as error:
        return _fail(f"not retried: {error}")
    print(f"retry requested: {retry.sync_id}")
    return 0


def run_drafts(args: argparse.Namespace) -> int:
    with ready_container() as container:
        drafts = all_drafts(container.database)
    _print(drafts, DRAFT_TABLE, title="Draft mismatches", as_json=args.json)
    return 0


def run_at_risk(args: argparse.Namespace) -> int:
    with ready_container() as container:
        entries = all_at_risk(container.database, container.clock(), container.settings.sync_lead)
    _print(entries, AT_RISK_TABLE, title="Renewals at risk", as_json=args.json)
    return 0


def run_quarantine(args: argparse.Namespace) -> int:
    with ready_container() as container:
        if args.retry_reactions:
            reactor = RenewalReactor(
                container.database, container.ledger, container.renewal_policy()
            )
            released, held = reactor.retry_quarantined()
            print(f"reactions retried: {released} released, {held} still held")
            return 0 if held == 0 else EXIT_NOT_FOUND
        entries = quarantined_inputs(container.database)
    _print(entries, QUARANTINE_TABLE, title="Quarantined inputs", as_json=args.json)
    return 0


def _print(
    rows: list[Row],
    columns: tuple[tuple[str, Callable[[Row], str]], ...],
    *,
    title: str,
    as_json: bool,
) -> None:
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(rows) + b"\n")
        return
    if not rows:
        print(f"{title}: none")
        return
    table = Table(title=f"{title} ({len(rows)})")
    for heading, _ in columns:
        table.add_column(heading, no_wrap=heading in UNBROKEN, overflow="fold")
    for row in rows:
        table.add_row(*(cell(row) for _, cell in columns))
    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPED_WIDTH)
    console.print(table)


def _fail(message: str) -> int:
    print(f"ledger: {message}", file=sys.stderr)
    return EXIT_NOT_FOUND
