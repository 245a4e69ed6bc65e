"""``ledger smoke --url URL [--mode api|browser] [--organizer ID] [--timeout S]``.

Exit 0 only when every step held (one log line each, JSON with a ``step`` field under
``LEDGER_LOG_FORMAT=json``), 1 when one did not, 2 for bad arguments, 78 for missing or
unsafe configuration (no token secrets, a live-mode Stripe key, browser mode without
Playwright). With ``LEDGER_SMOKE_PUSHGATEWAY_URL`` the outcome is pushed as gauges.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapters.observability.logs import configure_logging, log_context
from app.settings import ConfigurationError, Settings, load_settings
from app.smoke import SmokeOptions, run_smoke
from app.smoke.flow import new_organizer_id
from app.smoke.push import push_result
from app.smoke.report import log
from app.smoke.stripe_side import live_key_problem
from domain.limits import id_problem

MAX_TIMEOUT_S = 600.0


def url_argument(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = f"{text!r} is not an http:// or https:// URL"
        raise argparse.ArgumentTypeError(msg)
    return text.rstrip("/")


def timeout_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_TIMEOUT_S:
        msg = f"{text!r} is not a number of seconds between 0 and {MAX_TIMEOUT_S:g}"
        raise argparse.ArgumentTypeError(msg)
    return value


def organizer_argument(text: str) -> str:
    problem = id_problem(text)
    if problem is not None:
        msg = f"{text!r}: {problem}"
        raise argparse.ArgumentTypeError(msg)
    return text


def register(commands: Any) -> None:
    smoke = commands.add_parser("smoke", help="end-to-end check of a deployed ledger")
    smoke.add_argument("--url", type=url_argument, required=True, help="the ledger's base URL")
    smoke.add_argument("--mode", choices=("api", "browser"), default="api")
    smoke.add_argument(
        "--organizer", type=organizer_argument, help="smoke organizer id (default: new per run)"
    )
    smoke.add_argument(
        "--timeout", type=timeout_argument, default=60.0, help="seconds each step may wait"
    )
    smoke.add_argument("--screenshots", type=Path, help="browser mode: a screenshot per step")
    smoke.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    # Only the smoke's own lines (one per step): library request logs would bury them.
    configure_logging("warning", settings.log_format)
    log.setLevel(logging.INFO)
    if (problem := live_key_problem(settings)) is not None:
        raise ConfigurationError(problem)
    if args.mode == "browser" and importlib.util.find_spec("playwright") is None:
        msg = "--mode browser needs Playwright: pip install 'renewal-ledger[smoke]'"
        raise ConfigurationError(msg)
    options = SmokeOptions(
        url=args.url,
        mode=args.mode,
        organizer_id=args.organizer or new_organizer_id(),
        timeout_s=args.timeout,
        screenshots=args.screenshots,
    )
    with log_context(organizer_id=options.organizer_id):
        return _run_and_report(options, settings)


def _run_and_report(options: SmokeOptions, settings: Settings) -> int:
    report = run_smoke(options, settings)
    held = report.succeeded
    gateway = settings.smoke_pushgateway_url
    if gateway is not None:
        ended = time.time()
        report.run(
            "push",
            lambda: push_result(gateway, instance=options.url, succeeded=held, ended_at=ended),
        )
    failed = [r.step for r in report.failed]
    if failed:
        log.error(
            "smoke failed against %s: %s did not hold",
            options.url,
            ", ".join(failed),
            extra={"outcome": "failed", "failed_steps": failed},
        )
        return 1
    log.info(
        "smoke passed against %s: %d steps held",
        options.url,
        len(report.results),
        extra={"outcome": "passed"},
    )
    return 0
