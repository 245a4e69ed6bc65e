"""Core commands: ``migrate``, ``serve`` and ``organizer show``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from rich.table import Table

from adapters.observability.logs import configure_logging
from app.bootstrap import bootstrap
from app.entrypoints.cli.render import print_table
from app.services.ledger import UnknownOrganizerError
from app.services.organizers.state import OrganizerState, organizer_state
from app.settings import load_settings
from projections.times import InstantError, parse_instant


def instant_argument(text: str) -> datetime:
    """argparse type: names the argument in the one-line error via ArgumentTypeError."""
    try:
        return parse_instant(text)
    except InstantError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def port_argument(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        msg = f"{text!r} is not a TCP port (1-65535)"
        raise argparse.ArgumentTypeError(msg)
    return port


def register(commands: Any) -> None:
    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=run_migrate)

    serve = commands.add_parser("serve", help="run the HTTP server (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_argument, default=8000)
    serve.set_defaults(handler=run_serve)

    organizer = commands.add_parser("organizer", help="inspect organizers")
    organizer_commands = organizer.add_subparsers(dest="organizer_command", required=True)
    show = organizer_commands.add_parser("show", help="an organizer's state, now or as of")
    show.add_argument("organizer_id", metavar="ORGANIZER_ID")
    show.add_argument("--as-of", type=instant_argument, metavar="ISO8601", dest="as_of")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=run_organizer_show)


def run_migrate(_: argparse.Namespace) -> int:
    settings = load_settings()
    container = bootstrap(settings, embedded_migrate=False)
    try:
        applied = container.migrate()
    finally:
        container.close()
    where = settings.database.redacted
    if applied:
        print(f"applied {len(applied)} migration(s) to {where}: {', '.join(applied)}")
    else:
        print(f"{where} is up to date")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.entrypoints.http.web import create_app

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    container = bootstrap(settings)
    uvicorn.run(
        create_app(container),
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
        # Per-request lines are noise at info level in production; debug turns them on.
        access_log=settings.log_level == "debug",
        proxy_headers=True,
        log_config=None,  # uvicorn's loggers propagate into ours (JSON or text, one format)
    )
    return 0


def run_organizer_show(args: argparse.Namespace) -> int:
    settings = load_settings()
    container = bootstrap(settings)
    try:
        state = organizer_state(
            container.ledger,
            args.organizer_id,
            args.as_of,
            minimum_quantity=settings.minimum_quantity,
        )
        if state is None:
            raise UnknownOrganizerError(args.organizer_id)
    finally:
        container.close()
    if args.json:
        sys.stdout.write(state.model_dump_json() + "\n")
    else:
        _print_state(state)
    return 0


def _print_state(state: OrganizerState) -> None:
    table = Table(title=f"Organizer {state.organizer_id}", show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", no_wrap=True)
    for name, value in state_facts(state.model_dump(mode="json")):
        table.add_row(name, value)
    print_table(table)


def state_facts(document: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every leaf of the ``--json`` document as a (label, text) row, so the table can never
    show fewer facts than the JSON: ``stripe.customer_id`` becomes ``stripe customer id``,
    values are written as in the JSON (ISO 8601 times), lists comma-joined, null ``—``."""
    for key, value in document.items():
        label = f"{prefix}{key.replace('_', ' ')}"
        if isinstance(value, dict):
            yield from state_facts(value, f"{label} ")
        elif isinstance(value, list):
            yield label, ", ".join(map(str, value))
        elif value is None:
            yield label, "now" if label == "as of" else "—"
        else:
            yield label, str(value)
