"""``ledger dev …``: the development stack (docs/dev-stack.md).

``up`` runs server, worker and the Stripe double under ``./var``; ``stripe`` runs the
double alone; ``reset`` wipes ``./var``; ``renew`` walks an organizer through its next
renewal on the double's clock.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from app.entrypoints.cli.core import port_argument
from app.entrypoints.cli.dev.double_install import double_installed
from app.entrypoints.cli.dev.errors import DevStackError
from app.entrypoints.cli.dev.renew import run_renew
from app.entrypoints.cli.dev.reset import run_reset
from app.entrypoints.cli.dev.up import run_up


def register(commands: Any) -> None:
    dev = commands.add_parser("dev", help="development helpers")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True)
    up = dev_commands.add_parser("up", help="server + worker (+ the Stripe double)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=port_argument, default=8000)
    up.set_defaults(handler=run_up)
    double = dev_commands.add_parser("stripe", help="run the Stripe test double")
    double.add_argument("--host", default="127.0.0.1")
    double.add_argument("--port", type=port_argument, default=12111)
    double.add_argument(
        "--state-file",
        type=Path,
        metavar="PATH",
        help="keep the double's objects and clocks in this file across restarts",
    )
    double.set_defaults(handler=run_double)
    reset = dev_commands.add_parser("reset", help="delete ./var (asks first)")
    reset.add_argument("--yes", action="store_true", help="do not ask")
    reset.set_defaults(handler=run_reset)
    renew = dev_commands.add_parser(
        "renew", help="move the double's clock through an organizer's next renewal(s)"
    )
    renew.add_argument("organizer_id", metavar="ORGANIZER_ID")
    renew.add_argument("--cycles", type=int, default=1, metavar="N", help="renewals (default 1)")
    renew.add_argument(
        "--timeout",
        type=float,
        default=60,
        metavar="SECONDS",
        help="how long to wait for the ledger at each step (default 60)",
    )
    renew.set_defaults(handler=run_renew)


def run_double(args: argparse.Namespace) -> int:
    with double_installed():
        from stripe_double import serve as serve_double
        from stripe_double.persist import StateFileError
    logging.getLogger().setLevel(logging.INFO)
    try:
        serve_double(host=args.host, port=args.port, state_file=args.state_file)
    except StateFileError as error:
        raise DevStackError(str(error)) from None
    return 0
