"""The Stripe test double of a dev stack: started with its state file under ``var/``,
then configured the way one configures Stripe (a product and the per-group price, a
webhook endpoint pointing at the server), reusing what an earlier run set up."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx
import stripe

from adapters.stripe.translate import HANDLED_EVENT_TYPES
from app.dev_env import DEV_DIR
from app.entrypoints.cli.dev.double_install import double_installed, require_double
from app.entrypoints.cli.dev.errors import DevStackError

log = logging.getLogger("ledger.dev")
DOUBLE_API_KEY = "sk_test_double"
DOUBLE_STATE = DEV_DIR / "stripe-double.json"
# Our own interpreter and module with fixed arguments: nothing untrusted is executed.
LEDGER = [sys.executable, "-m", "app.entrypoints.cli"]
# `ledger dev stripe`'s own default, below the kernel's ephemeral range (32768+): a port
# the OS hands out (to any outgoing connection) could be taken by the time of a restart.
DOUBLE_PORT = 12111
PREVIOUS_PORT_WAIT_S = 5.0
DOUBLE_PORTS = 64  # how many ports from DOUBLE_PORT up it tries before an ephemeral one

# Marks the endpoint `ledger dev up` made, to find it again after a restart.
ENDPOINT_MARK = {"created_by": "ledger dev up"}


def start_double(previous: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``ledger dev stripe`` on the port it had before (when still free), with its
    state in ``var/``; returns the process and its base URL once it answers."""
    require_double()  # before a child that would only fail
    port = _previous_port(previous.get("STRIPE_API_BASE")) or _fixed_range_port() or _free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [*LEDGER, "dev", "stripe", "--port", str(port), "--state-file", str(DOUBLE_STATE)]
    # Its own process group: a Ctrl-C in the terminal reaches `dev up` alone, which stops
    # the children in order (a second signal would cut the double's shutdown short).
    process = subprocess.Popen(argv, process_group=0)  # noqa: S603
    try:
        _wait_until_up(base, process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, base


def configure_double(base: str, server: str, previous: Mapping[str, str]) -> dict[str, str]:
    """The price and the webhook endpoint (reused when the double still has them), as the
    variables the ledger's processes need."""
    with double_installed():
        from stripe_double import sdk_client
    with sdk_client(base) as client:
        price = _price(base, client, previous.get("STRIPE_PRICE_ID"))
        secret = _endpoint_secret(client, f"{server}/webhooks/stripe", previous)
    log.info("double: price %s, webhooks to %s/webhooks/stripe", price, server)
    return {
        "STRIPE_API_KEY": DOUBLE_API_KEY,
        "STRIPE_API_BASE": base,
        "STRIPE_WEBHOOK_SECRET": secret,
        "STRIPE_PRICE_ID": price,
    }


def _price(base: str, client: stripe.StripeClient, previous: str | None) -> str:
    if previous:
        try:
            return str(client.v1.prices.retrieve(previous).id)
        except stripe.InvalidRequestError:
            log.warning("the double has no price %s any more: seeding a new one", previous)
    with httpx.Client(base_url=base, timeout=10) as admin:
        seeded = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"})
        seeded.raise_for_status()
    return str(seeded.json()["price"])


def _endpoint_secret(client: stripe.StripeClient, url: str, previous: Mapping[str, str]) -> str:
    """The signing secret of our endpoint, pointed at ``url``. Stripe shows a secret only
    when the endpoint is created, so an endpoint is reused only with its secret known."""
    ours = [
        endpoint
        for endpoint in client.v1.webhook_endpoints.list(params={"limit": 100}).data
        if endpoint.to_dict().get("metadata") == ENDPOINT_MARK
    ]
    secret = previous.get("STRIPE_WEBHOOK_SECRET")
    if ours and secret:
        endpoint, stale = ours[0], ours[1:]
        if endpoint.url != url:
            client.v1.webhook_endpoints.update(endpoint.id, params={"url": url})
    else:
        params: Any = {
            "url": url,
            "enabled_events": sorted(HANDLED_EVENT_TYPES),
            "metadata": ENDPOINT_MARK,
        }
        created = client.v1.webhook_endpoints.create(params=params)
        secret, stale = str(created["secret"]), ours
    for endpoint in stale:
        client.v1.webhook_endpoints.delete(endpoint.id)
    return secret


def _previous_port(base: str | None) -> int | None:
    if not base or not base.startswith("http://127.0.0.1:"):
        return None
    try:
        port = int(base.rsplit(":", 1)[1])
    except ValueError:
        return None
    deadline = time.monotonic() + PREVIOUS_PORT_WAIT_S  # the old double may still be exiting
    while _bindable(port) is None:
        if time.monotonic() > deadline:
            log.warning("the double's earlier port %d is taken: it moves to another", port)
            return None
        time.sleep(0.1)
    return port


def _bindable(port: int) -> int | None:
    """Whether the double's server could listen on ``port``: probed as uvicorn binds (with
    SO_REUSEADDR), so connections of a stopped stack left in TIME_WAIT do not move it."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return None
    return port


def _fixed_range_port() -> int | None:
    """12111, or the next free port above it: still below the ephemeral range, so no
    outgoing connection takes it before a restart (several stacks on one machine)."""
    return next(
        (port for port in range(DOUBLE_PORT, DOUBLE_PORT + DOUBLE_PORTS) if _bindable(port)), None
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(base: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            msg = f"the Stripe double exited with {child.returncode} (its error is above)"
            raise DevStackError(msg)
        try:
            httpx.get(f"{base}/_double/config", timeout=1).raise_for_status()
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        return
    msg = "the Stripe double did not start within 30 s"
    raise DevStackError(msg)
