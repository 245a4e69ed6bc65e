"""``ledger token issue``: a bearer token for development (the platform issues real ones)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from app.entrypoints.http.auth import STAFF, issue_token
from app.settings import ConfigurationError, load_settings, parse_duration


def ttl_argument(text: str) -> timedelta:
    ttl = parse_duration(text)
    if ttl is None or ttl <= timedelta(0) or ttl > timedelta(days=30):
        msg = f"{text!r} is not a duration between 1s and 30d (e.g. 15m, 1h, 2d)"
        raise argparse.ArgumentTypeError(msg)
    return ttl


def register(commands: Any) -> None:
    token = commands.add_parser("token", help="API tokens for development")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    issue = token_commands.add_parser("issue", help="print a signed JWT")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--organizer", metavar="ID", help="a token for this organizer")
    who.add_argument("--role", choices=STAFF, help="a staff token (finance or ops)")
    issue.add_argument("--ttl", type=ttl_argument, default=timedelta(hours=1))
    issue.set_defaults(handler=run_issue)


def run_issue(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.token_secret is None:
        msg = "LEDGER_TOKEN_SECRET: must be set to issue tokens"
        raise ConfigurationError(msg)
    if args.ttl > settings.token_max_ttl:
        # The server would refuse it: better one clear line now than a 401 later.
        print(
            f"ledger: --ttl {args.ttl} exceeds LEDGER_TOKEN_MAX_TTL ({settings.token_max_ttl})",
            file=sys.stderr,
        )
        return 2
    secret = settings.token_secret.get_secret_value()
    if args.organizer:
        token = issue_token(secret, subject=args.organizer, role="organizer", ttl=args.ttl)
    else:
        token = issue_token(secret, subject=f"staff:{args.role}", role=args.role, ttl=args.ttl)
    print(token)
    return 0
