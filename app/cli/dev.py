"""``ledger dev up`` and ``ledger dev stripe``: the whole system on one machine.

``dev up`` starts ``ledger serve`` and ``ledger worker`` as child processes (the same
commands production runs separately), forwards SIGINT/SIGTERM, and stops everything if
one child dies. Without ``STRIPE_API_KEY`` it also starts the project's Stripe test
double and configures it the way one configures Stripe — a webhook endpoint pointing
at the server (its signing secret goes to the children), a product and the per-group
price — so a newcomer gets a working system with no Stripe account.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from types import FrameType
from typing import Any

import httpx
import stripe

from adapters.observability.logs import configure_logging
from adapters.stripe.double import serve as serve_double
from adapters.stripe.translate import HANDLED_EVENT_TYPES
from app.api.auth import issue_token
from app.cli.core import port_argument
from app.settings import Settings, load_settings

log = logging.getLogger("ledger.dev")
DOUBLE_API_KEY = "sk_test_double"
# Our own interpreter and module with fixed arguments: nothing untrusted is executed.
LEDGER = [sys.executable, "-m", "app.cli"]


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
    double.set_defaults(handler=run_double)


def run_double(args: argparse.Namespace) -> int:
    logging.getLogger().setLevel(logging.INFO)
    serve_double(host=args.host, port=args.port)
    return 0


def run_up(args: argparse.Namespace) -> int:
    settings = load_settings()  # fail fast, in one line, before starting anything
    configure_logging(settings.log_level, settings.log_format)
    children: dict[str, subprocess.Popen[bytes]] = {}
    env = dict(os.environ)
    try:
        if settings.stripe_api_key is None:
            env |= start_double(children, settings, server=f"http://{args.host}:{args.port}")
        env.setdefault("LEDGER_SERVICE_TOKEN", secrets.token_urlsafe(24))
        env.setdefault("LEDGER_TOKEN_SECRET", secrets.token_urlsafe(48))
        env.setdefault("LEDGER_PUBLIC_URL", f"http://{args.host}:{args.port}")
        serve = [*LEDGER, "serve", "--host", args.host, "--port", str(args.port)]
        children["serve"] = subprocess.Popen(serve, env=env)  # noqa: S603
        children["worker"] = subprocess.Popen([*LEDGER, "worker"], env=env)  # noqa: S603
        log.info(
            "dev stack up on %s: http://%s:%d", settings.database.redacted, args.host, args.port
        )
        demo = issue_token(
            env["LEDGER_TOKEN_SECRET"], subject="org-demo", role="organizer", ttl=timedelta(hours=8)
        )
        log.warning("sign in as organizer org-demo: %s/#token=%s", env["LEDGER_PUBLIC_URL"], demo)
        supervise(children)
    finally:
        stop_all(children)
    failed = [c.returncode for c in children.values() if c.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed else 0


def start_double(
    children: dict[str, subprocess.Popen[bytes]], settings: Settings, *, server: str
) -> dict[str, str]:
    """Start the double, configure it like Stripe, and return the env the children need."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    children["stripe"] = subprocess.Popen([*LEDGER, "dev", "stripe", "--port", str(port)])  # noqa: S603
    _wait_until_up(base, children["stripe"])
    log.warning("no STRIPE_API_KEY configured: using the Stripe test double at %s", base)
    with httpx.Client(base_url=base, timeout=10) as admin:
        seeded = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"}).json()
    client = stripe.StripeClient(
        DOUBLE_API_KEY,
        base_addresses={"api": base, "files": base, "connect": base, "meter_events": base},
        max_network_retries=0,
    )
    # The SDK types enabled_events as a Literal of every event name; ours are a subset.
    params: Any = {
        "url": f"{server}/webhooks/stripe",
        "enabled_events": sorted(HANDLED_EVENT_TYPES),
    }
    endpoint = client.v1.webhook_endpoints.create(params=params)
    log.info("double: price %s, webhooks to %s/webhooks/stripe", seeded["price"], server)
    return {
        "STRIPE_API_KEY": DOUBLE_API_KEY,
        "STRIPE_API_BASE": base,
        "STRIPE_WEBHOOK_SECRET": str(endpoint["secret"]),
        "STRIPE_PRICE_ID": str(seeded["price"]),
    }


def supervise(children: dict[str, subprocess.Popen[bytes]]) -> None:
    stopping = False

    def stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                log.error("%s exited with %s: stopping the stack", name, child.returncode)
                stopping = True
        time.sleep(0.2)


def stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(base: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            msg = f"the Stripe double exited with {child.returncode}"
            raise RuntimeError(msg)
        try:
            httpx.get(f"{base}/_double/config", timeout=1).raise_for_status()
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        return
    msg = "the Stripe double did not start within 30 s"
    raise RuntimeError(msg)
