"""The ledger's only way to Stripe: the official SDK, a pinned API version, paced calls.

Retries are NOT left to the SDK (``max_network_retries=0``): the process manager
records every attempt and schedules the next one itself, so backoff survives a crash
and the audit trail shows each try. This module only says, for each failure, whether
trying again can help (``retryable``), honouring ``Stripe-Should-Retry``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import requests
import stripe

from adapters.observability.metrics import observe_stripe_request
from adapters.stripe.checkout import with_tax_collection
from adapters.stripe.corrections import CorrectionCalls, request_id
from adapters.stripe.payload import Node
from adapters.stripe.previews import RenewalPreviewRead, read_renewal_preview
from adapters.stripe.values import CheckoutSessionRead, PriceRead, read_checkout_session, read_price

PINNED_API_VERSION: str = stripe.api_version
# Pace a little under the configured limit: arrival jitter must not tip a 1-second window.
PACING_FACTOR = 0.93
PRICE_CACHE_S = 300.0
LIST_PAGE_SIZE = 100  # Stripe's largest page


@dataclass(frozen=True)
class SentUpdate:
    request_id: str
    quantity: int

    @classmethod
    def read(cls, item: Any) -> SentUpdate:
        """From a subscription item as Stripe returned it (``TranslationError`` names a
        malformed field, e.g. ``subscription_item.quantity``)."""
        quantity = Node.root(item.to_dict(), "subscription_item").quantity("quantity")
        return cls(request_id=request_id(item), quantity=quantity)


class StripeCallError(Exception):
    """A Stripe call that failed, classified for the retry policy."""

    def __init__(self, code: str, message: str, *, retryable: bool, status: int | None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.status = status

    @property
    def outcome_unknown(self) -> bool:
        """A 5xx: Stripe may or may not have applied the request, and it stores the error
        under the idempotency key, so retrying with the same key can only replay it."""
        return self.status is not None and self.status >= 500


class RateLimiter:
    """At most ``rate`` calls in any trailing second, shared by every calling thread.

    Calls are at least 0.8 interval apart (never more than 1.25 x the paced rate),
    so a slot lost to a stall (every sender busy in the database, a slow response) is
    used later within the same second's budget: the achieved rate stays near the limit,
    and no one-second window ever holds more than ``rate`` calls.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            msg = "rate must be positive"
            raise ValueError(msg)
        self.clock = clock
        self.sleep = sleep
        self.budget = max(1, int(rate))
        self.interval = 1.0 / rate
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self.clock()
                # Same expression as the wait below, so a call due "now" is never stuck.
                while self._sent and self._sent[0] + 1.0 <= now:
                    self._sent.popleft()
                if len(self._sent) >= self.budget:
                    slot = self._sent[0] + 1.0  # the trailing second is full
                elif self._sent:
                    # Up to 1.25 x the paced rate, so slots lapsed in a stall are caught up
                    # without bunching so much that network jitter tips Stripe's window.
                    slot = self._sent[-1] + self.interval * 0.8
                else:
                    slot = now
                if slot <= now:
                    self._sent.append(now)
                    return
            self.sleep(slot - now)


def classify(error: stripe.StripeError) -> StripeCallError:
    """Map an SDK error to (code, retryable). Retry what time can fix — rate limits,
    lock timeouts, 5xx, timeouts, dropped connections — unless Stripe says not to.

    A 5xx is retryable whatever ``Stripe-Should-Retry`` says: Stripe sends ``false`` on
    most 500s, meaning "do not repeat this request *with this key*" (the error is stored
    under it). The outcome is unknown, so the caller reads the object back and, if the
    change is not there, tries again with a fresh key (``outcome_unknown``)."""
    status = error.http_status
    headers = error.headers or {}
    should_retry = str(headers.get("Stripe-Should-Retry", headers.get("stripe-should-retry", "")))
    code = error.code or type(error).__name__
    message = str(error.user_message or error)
    if status is not None and status >= 500:
        return StripeCallError(code, message, retryable=True, status=status)
    if should_retry.lower() == "false":
        return StripeCallError(code, message, retryable=False, status=status)
    if isinstance(error, stripe.APIConnectionError):
        return StripeCallError("connection_error", message, retryable=True, status=status)
    if isinstance(error, stripe.RateLimitError) or status == 429:
        return StripeCallError(code or "rate_limit", message, retryable=True, status=status)
    if status == 409:
        return StripeCallError(code, message, retryable=True, status=status)
    if should_retry.lower() == "true":
        return StripeCallError(code, message, retryable=True, status=status)
    return StripeCallError(code, message, retryable=False, status=status)


class MeteredRequestsClient(stripe.RequestsClient):
    """The SDK's HTTP client, counting each exchange (``ledger_stripe_requests_total``,
    ``ledger_stripe_request_seconds``, ``ledger_stripe_rate_limited_total``): the one place
    every request to Stripe passes, whichever call made it."""

    # RequestsClient's own signature (it narrows HTTPClient's, as the SDK itself does).
    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        started = time.perf_counter()
        try:
            content, status, response_headers = super().request(method, url, headers, post_data)
        except Exception:
            observe_stripe_request(method, None, time.perf_counter() - started)
            raise
        observe_stripe_request(method, status, time.perf_counter() - started)
        return content, status, response_headers


class StripeGateway(CorrectionCalls):
    """Stripe through ``StripeClient``; one instance per process (thread-safe). The calls
    that correct renewal invoices are in adapters/stripe/corrections.py."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str | None = None,
        max_rps: float = 25,
        timeout_s: float = 20,
    ) -> None:
        self._session = requests.Session()
        bases = None
        if api_base:
            base = api_base.rstrip("/")
            bases = {"api": base, "files": base, "connect": base, "meter_events": base}
        self.client = stripe.StripeClient(
            api_key,
            stripe_version=PINNED_API_VERSION,
            base_addresses=bases,  # type: ignore[arg-type]
            max_network_retries=0,
            http_client=MeteredRequestsClient(timeout=timeout_s, session=self._session),
        )
        self.limiter = RateLimiter(max_rps * PACING_FACTOR)
        self._prices: dict[str, tuple[float, PriceRead]] = {}
        self.page_size = LIST_PAGE_SIZE

    def close(self) -> None:
        self._session.close()

    def call(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        """One paced SDK call; failures become ``StripeCallError``."""
        self.limiter.acquire()
        try:
            return operation(*args, **kwargs)
        except stripe.StripeError as error:
            raise classify(error) from error

    def set_item_quantity(
        self,
        *,
        item_id: str,
        quantity: int,
        proration_behavior: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> SentUpdate:
        """Set a subscription item's quantity, exactly once per ``idempotency_key``."""
        item = self.call(
            self.client.v1.subscription_items.update,
            item_id,
            params={
                "quantity": quantity,
                "proration_behavior": proration_behavior,
                "metadata": dict(metadata),
            },
            options={"idempotency_key": idempotency_key},
        )
        return SentUpdate.read(item)

    def item_quantity(self, item_id: str) -> SentUpdate:
        """A subscription item's current quantity (to settle an attempt Stripe left unknown)."""
        return SentUpdate.read(self.call(self.client.v1.subscription_items.retrieve, item_id))

    def subscriptions(self, *, status: str = "all") -> Iterator[dict[str, Any]]:
        """Every subscription, 100 per page (each page one paced call)."""
        return self.each(self.client.v1.subscriptions.list, params={"status": status})

    def each(
        self, operation: Any, *args: Any, params: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every object of a Stripe list, in its order, ``page_size`` per page (each page
        one paced call, its failure a ``StripeCallError`` like any other call's)."""
        query: dict[str, Any] = {**params, "limit": self.page_size}
        while True:
            page = self.call(operation, *args, params=query)
            for found in page.data:
                yield found.to_dict()
            if not page.has_more or not page.data:
                return
            query = {**query, "starting_after": page.data[-1]["id"]}

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        """All of an invoice's lines, in order, 100 per page (each page one paced call):
        an invoice object embeds only the first page (``lines.has_more``)."""
        return list(self.each(self.client.v1.invoices.line_items.list, invoice_id, params={}))

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        found = self.call(self.client.v1.subscriptions.retrieve, subscription_id)
        result: dict[str, Any] = found.to_dict()
        return result

    def preview_renewal(
        self, subscription_id: str, item_id: str, quantity: int
    ) -> RenewalPreviewRead:
        """The next renewal invoice if the item had ``quantity`` (no proration lines: the
        estimate of the renewal itself), one paced call."""
        found = self.call(
            self.client.v1.invoices.create_preview,
            params={
                "subscription": subscription_id,
                "subscription_details": {
                    "items": [{"id": item_id, "quantity": quantity}],
                    "proration_behavior": "none",
                },
            },
        )
        return read_renewal_preview(found.to_dict(), quantity)

    # -- enrollment (the organizer API) ----------------------------------------------

    def price(self, price_id: str) -> PriceRead:
        """A price, cached for a few minutes: billing pages must not spend the rate limit."""
        now = time.monotonic()
        cached = self._prices.get(price_id)
        if cached is not None and now - cached[0] < PRICE_CACHE_S:
            return cached[1]
        found = read_price(
            self.call(
                self.client.v1.prices.retrieve, price_id, params={"expand": ["tiers"]}
            ).to_dict()
        )
        self._prices[price_id] = (now, found)
        return found

    def create_customer(self, *, organizer_id: str, idempotency_key: str) -> str:
        customer = self.call(
            self.client.v1.customers.create,
            params={"metadata": {"organizer_id": organizer_id}},
            options={"idempotency_key": idempotency_key},
        )
        return str(customer["id"])

    def create_checkout_session(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> CheckoutSessionRead:
        """A Checkout Session on ``params`` (collecting address and tax ids with tax)."""
        session = self.call(
            self.client.v1.checkout.sessions.create,
            params=with_tax_collection(params),
            options={"idempotency_key": idempotency_key},
        )
        return read_checkout_session(session.to_dict())

    def open_checkout_sessions(self, customer_id: str) -> list[str]:
        """The ids of the customer's open Checkout Sessions, newest first, whoever opened
        them (the ledger, the Dashboard, an earlier deployment), every page of them."""
        found = self.each(
            self.client.v1.checkout.sessions.list,
            params={"customer": customer_id, "status": "open"},
        )
        return [str(session["id"]) for session in found]

    def expire_checkout_session(self, session_id: str) -> str:
        """Expire a Checkout Session so it can no longer be paid (issue 13: a newer one
        replaces it). Returns its status after: ``expired``, or ``complete`` when it was
        paid first (Stripe refuses to expire a session that is not open, with a 400)."""
        try:
            session = self.call(self.client.v1.checkout.sessions.expire, session_id)
        except StripeCallError as error:
            if error.status != HTTPStatus.BAD_REQUEST:
                raise
            session = self.call(self.client.v1.checkout.sessions.retrieve, session_id)
        return str(session["status"])

    def create_portal_session(
        self, *, customer_id: str, return_url: str, configuration: str | None = None
    ) -> str:
        """A portal session on ``configuration`` (None: the account's default)."""
        params = {"customer": customer_id, "return_url": return_url}
        if configuration is not None:
            params["configuration"] = configuration
        session = self.call(self.client.v1.billing_portal.sessions.create, params=params)
        return str(session["url"])
