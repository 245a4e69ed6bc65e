"""Fixtures and helpers for the Stripe double's end-to-end tests.

Test modules load this as a plugin (`pytest_plugins = [...]`) to get the fixtures:
`double` (a reset double plus an SDK client and an admin HTTP client), `receiver` (a
webhook receiver) and `fast_retries` (makes the SDK's retry sleeps short). They import
names from here only under TYPE_CHECKING: importing it before pytest registers it as a
plugin would defeat assertion rewriting (and pytest warns, which fails the run).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe
from stripe import StripeClient
from stripe.params import CustomerCreateParams

from stripe_double import RunningDouble, running_double, sdk_client

API_KEY = "sk_test_double"


@dataclass
class DoubleEnv:
    """A freshly reset double, one SDK client on it, and its /_double/ admin API."""

    base_url: str
    stripe: StripeClient
    admin: httpx.Client
    server: RunningDouble
    _stack: ExitStack = field(default_factory=ExitStack)

    def client(self, *, max_network_retries: int = 0, api_key: str = API_KEY) -> StripeClient:
        """Another SDK client (closed when the test ends)."""
        return self._stack.enter_context(
            sdk_client(self.base_url, max_network_retries=max_network_retries, api_key=api_key)
        )

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST JSON to a /_double/ endpoint; fails the test on an error status."""
        response = self.admin.post(path, json=body or {})
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> Any:
        """GET a /_double/ endpoint's JSON."""
        response = self.admin.get(path)
        response.raise_for_status()
        return response.json()

    def config(self, **changes: Any) -> dict[str, Any]:
        """Change the double's config."""
        result: dict[str, Any] = self.post("/_double/config", changes)
        return result

    def fault(self, **spec: Any) -> dict[str, Any]:
        """Add a fault rule."""
        result: dict[str, Any] = self.post("/_double/faults", spec)
        return result

    def requests(self, path_prefix: str = "") -> list[dict[str, Any]]:
        """Logged /v1 requests whose path starts with `path_prefix`, oldest first."""
        entries: list[dict[str, Any]] = self.get("/_double/requests")
        return [e for e in entries if str(e["path"]).startswith(path_prefix)]

    def flush(self) -> dict[str, Any]:
        """Wait for every queued webhook delivery."""
        result: dict[str, Any] = self.post("/_double/webhooks/flush", {"timeout": 20})
        if not result["flushed"]:
            raise AssertionError(f"webhook deliveries still pending: {result}")
        return result

    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery attempt so far."""
        found: list[dict[str, Any]] = self.get("/_double/webhooks/deliveries")
        return found

    def event_types(self, *, since: int = 0) -> list[str]:
        """Event types in the order the double created them (oldest first)."""
        events = list(self.stripe.v1.events.list(params={"limit": 100}).auto_paging_iter())
        events.reverse()
        return [str(e.type) for e in events][since:]

    def seed(self, *, unit_amount: int = 500, interval: str = "month") -> str:
        """A recurring per-unit price id (via the double's seed helper)."""
        body = {"unit_amount": unit_amount, "currency": "eur", "interval": interval}
        seeded: dict[str, str] = self.post("/_double/seed", body)
        return seeded["price"]

    def fail_payments(self, customer_id: str, fail: bool = True) -> None:
        """Make the customer's payments fail (or succeed again)."""
        self.post(f"/_double/customers/{customer_id}/fail_payments", {"fail": fail})

    def subscribe(
        self,
        *,
        price: str,
        quantity: int = 1,
        clock: str | None = None,
        metadata: dict[str, str] | None = None,
        tax: bool = False,
    ) -> tuple[str, Any]:
        """A customer (optionally on a test clock) with one subscription: (customer id, sub)."""
        customer_params: CustomerCreateParams = {"email": "owner@example.com"}
        if clock is not None:
            customer_params["test_clock"] = clock
        customer = self.stripe.v1.customers.create(params=customer_params)
        sub = self.stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price, "quantity": quantity}],
                "metadata": metadata or {},
                "automatic_tax": {"enabled": tax},
            }
        )
        return str(customer.id), sub


@pytest.fixture(scope="session")
def stripe_double_server() -> Iterator[RunningDouble]:
    """One double for the session; `double` resets it before each test."""
    with running_double() as server:
        yield server


@pytest.fixture
def double(stripe_double_server: RunningDouble) -> Iterator[DoubleEnv]:
    """A reset double with an SDK client (no retries) and an admin client."""
    base_url = stripe_double_server.base_url
    with ExitStack() as stack:
        admin = stack.enter_context(httpx.Client(base_url=base_url, timeout=30))
        admin.post("/_double/reset").raise_for_status()
        client = stack.enter_context(sdk_client(base_url))
        env = DoubleEnv(base_url, client, admin, stripe_double_server)
        stack.enter_context(env._stack)
        yield env


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK sleeps 0.5 s+ between retries; tests only need the retries, not the wait."""
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.02)


@dataclass
class Received:
    """One webhook POST as the receiver got it."""

    body: bytes
    signature: str

    def event(self) -> dict[str, Any]:
        """The decoded event."""
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


class WebhookReceiver:
    """A local HTTP server recording webhook POSTs; `statuses` scripts its answers."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(body, self.headers["Stripe-Signature"]))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def events(self) -> list[dict[str, Any]]:
        """Decoded events received so far, in arrival order."""
        with self._lock:
            return [r.event() for r in self.received]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on a free local port."""
    with WebhookReceiver() as running:
        yield running
