"""The ``ledger`` command. Errors are one line on stderr with a documented exit code:

0 ok · 1 the thing asked about does not exist, the store is not ready, or the dev
stack cannot do it (e.g. another one runs on ``var/``) · 2 bad usage or argument ·
78 bad configuration (EX_CONFIG) · 130 interrupted (Ctrl-C; never a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from adapters.observability.logs import configure_logging
from adapters.persistence.database import StoreUnavailableError
from app.entrypoints.cli import (
    audit,
    core,
    dev,
    imports,
    ops,
    reconcile,
    replay,
    smoke,
    stripe_account,
    tokens,
    worker,
)
from app.entrypoints.cli.dev.errors import DevStackError
from app.services.errors import NotReadyError
from app.services.ledger import UnknownOrganizerError
from app.settings import ConfigurationError

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_CONFIG = 78
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


class OneLineParser(argparse.ArgumentParser):
    """argparse, but usage errors are a single line (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ledger", description="Renewal Ledger: per-group Stripe renewals.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    core.register(commands)
    tokens.register(commands)
    dev.register(commands)
    worker.register(commands)
    imports.register(commands)
    replay.register(commands)
    audit.register(commands)
    ops.register(commands)
    reconcile.register(commands)
    smoke.register(commands)
    stripe_account.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ledger`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # One-shot commands stay quiet; long-running ones raise the level from settings. The
    # format is known before settings load (whose own errors must be logged in it too).
    configure_logging(
        "warning", "json" if os.environ.get("LEDGER_LOG_FORMAT") == "json" else "text"
    )
    try:
        code: int = args.handler(args)
    except ConfigurationError as error:
        return _fail(EXIT_CONFIG, f"configuration error: {error}")
    except UnknownOrganizerError as error:
        return _fail(EXIT_NOT_FOUND, f"unknown organizer {error.args[0]!r}")
    except NotReadyError as error:
        return _fail(EXIT_NOT_FOUND, f"not ready: {error}")
    except StoreUnavailableError as error:
        return _fail(EXIT_NOT_FOUND, f"store unavailable: {error}")
    except DevStackError as error:
        return _fail(EXIT_NOT_FOUND, str(error))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


def _fail(code: int, message: str) -> int:
    print(f"ledger: {message}", file=sys.stderr)
    return code
