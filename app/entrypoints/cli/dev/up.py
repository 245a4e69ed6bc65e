"""``ledger dev up``: the whole system on one machine, under ``./var``.

It starts ``ledger serve`` and ``ledger worker`` as child processes (the same commands
production runs separately) and stops everything when interrupted or when one child
dies. Without ``STRIPE_API_KEY`` it also starts the project's Stripe test double,
configured like Stripe, so a newcomer gets a working system with no Stripe account.

The secrets and addresses it generates go to ``var/dev.env`` and are reused on the next
start, so tokens, sign-in links and the double's objects stay valid across restarts.
See docs/dev-stack.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from types import FrameType

from adapters.observability.logs import configure_logging
from app.dev_env import DEV_ENV, read_dev_env, write_dev_env
from app.entrypoints.cli.dev.double import LEDGER, configure_double, start_double
from app.entrypoints.cli.dev.lock import StackLock
from app.entrypoints.http.auth import issue_token
from app.settings import Settings, load_settings

log = logging.getLogger("ledger.dev")
Children = dict[str, subprocess.Popen[bytes]]
# Generated once, then kept in var/dev.env.
GENERATED: dict[str, Callable[[], str]] = {
    "LEDGER_SERVICE_TOKEN": lambda: secrets.token_urlsafe(24),
    "LEDGER_TOKEN_SECRET": lambda: secrets.token_urlsafe(48),
}


class _Stop(BaseException):
    """SIGINT or SIGTERM arrived: unwind to the clean-up (never a traceback)."""


def _raise_stop(signum: int, _: FrameType | None) -> None:
    log.info("received %s: stopping the dev stack", signal.Signals(signum).name)
    raise _Stop


def run_up(args: argparse.Namespace) -> int:
    """Start the stack and supervise it until interrupted; 1 if a child failed."""
    url = f"http://{args.host}:{args.port}"
    with StackLock(url=url):  # refuses at once if another stack runs on var/
        settings = load_settings()  # fail fast, in one line, before starting anything
        configure_logging(settings.log_level, settings.log_format)
        children: Children = {}
        signal.signal(signal.SIGINT, _raise_stop)
        signal.signal(signal.SIGTERM, _raise_stop)
        try:
            env = _start(children, args, settings)
            _announce(env)
            _supervise(children)
        except _Stop:
            pass
        finally:
            # A second Ctrl-C must not cut the orderly stop short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _stop_all(children)
    failed = [c.returncode for c in children.values() if c.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed else 0


def _start(children: Children, args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    previous = read_dev_env(DEV_ENV)
    # A variable the shell got by sourcing var/dev.env is not a choice the user made.
    explicit = {k: v for k, v in os.environ.items() if previous.get(k) != v}
    url = f"http://{args.host}:{args.port}"
    stack = {
        "LEDGER_DATABASE_URL": settings.database_url,
        "LEDGER_PUBLIC_URL": explicit.get("LEDGER_PUBLIC_URL", url),
    }
    for name, generate in GENERATED.items():
        stack[name] = explicit.get(name) or previous.get(name) or generate()
    if "STRIPE_API_KEY" not in explicit:
        children["stripe"], base = start_double(previous)
        log.warning("no STRIPE_API_KEY configured: using the Stripe test double at %s", base)
        stack |= configure_double(base, url, previous)
    write_dev_env(stack)
    env = {**os.environ, **stack}
    serve = [*LEDGER, "serve", "--host", args.host, "--port", str(args.port)]
    # Own process groups, as the double's: only `dev up` hears the terminal's Ctrl-C.
    children["serve"] = subprocess.Popen(serve, env=env, process_group=0)  # noqa: S603
    children["worker"] = subprocess.Popen([*LEDGER, "worker"], env=env, process_group=0)  # noqa: S603
    log.info("dev stack up on %s: %s", settings.database.redacted, url)
    return env


def _announce(env: Mapping[str, str]) -> None:
    log.warning(
        "wrote %s (service token, token secret, Stripe settings): `. %s` in another shell",
        DEV_ENV,
        DEV_ENV,
    )
    demo = issue_token(
        env["LEDGER_TOKEN_SECRET"], subject="org-demo", role="organizer", ttl=timedelta(hours=8)
    )
    log.warning("sign in as organizer org-demo: %s/#token=%s", env["LEDGER_PUBLIC_URL"], demo)


def _supervise(children: Children) -> None:
    """Return when a child exits on its own (a signal raises ``_Stop`` instead)."""
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                log.error("%s exited with %s: stopping the stack", name, child.returncode)
                return
        time.sleep(0.2)


def _stop_all(children: Children) -> None:
    # The ledger first, the double last: the worker may still be talking to it.
    for name in ("serve", "worker", "stripe"):
        child = children.get(name)
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
