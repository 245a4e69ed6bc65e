"""``ledger dev up``: the whole system on one machine, for development and demos.

Starts ``ledger serve`` and ``ledger worker`` as child processes (the same commands
production runs separately), forwards SIGINT/SIGTERM to them, and stops everything
if one of them dies, so a broken child never leaves a half-running system behind.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from app.cli.core import port_argument
from app.settings import load_settings

log = logging.getLogger("ledger.dev")


def register(commands: Any) -> None:
    dev = commands.add_parser("dev", help="development helpers")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True)
    up = dev_commands.add_parser("up", help="run the server and the worker together")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=port_argument, default=8000)
    up.set_defaults(handler=run_up)


def run_up(args: argparse.Namespace) -> int:
    settings = load_settings()  # fail fast, in one line, before starting anything
    logging.getLogger().setLevel(settings.log_level.upper())
    # Our own interpreter and module with fixed arguments: nothing untrusted is executed.
    ledger = [sys.executable, "-m", "app.cli"]
    children = {
        "serve": subprocess.Popen(  # noqa: S603
            [*ledger, "serve", "--host", args.host, "--port", str(args.port)]
        ),
        "worker": subprocess.Popen([*ledger, "worker"]),  # noqa: S603
    }
    log.info("dev stack up on %s: http://%s:%d", settings.database.redacted, args.host, args.port)
    stopping = False

    def stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    log.error("%s exited with %s: stopping the stack", name, child.returncode)
                    stopping = True
            time.sleep(0.2)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [c.returncode for c in children.values() if c.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed else 0
