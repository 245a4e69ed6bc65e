"""In-memory state of the double: objects, config, time and per-request context."""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import stripe

from stripe_double.errors import missing

_ALPHABET = string.ascii_letters + string.digits

API_VERSION: str = str(stripe.api_version)


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as `sub_1Qx...`."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


def new_request_id() -> str:
    """A `req_...` id; every response carries one."""
    return new_id("req", 14)


@dataclass
class WebhookConfig:
    """Delivery behaviour; shuffle and duplicates mimic Stripe's unordered at-least-once."""

    shuffle: bool = False
    duplicate_probability: float = 0.0
    # Hold deliveries back (queueing them) until unpaused: makes shuffles reproducible.
    paused: bool = False
    seed: int | None = None
    max_attempts: int = 5
    retry_base_ms: int = 100
    timeout_s: float = 5.0


@dataclass
class Config:
    """Double-only knobs, changed with `POST /_double/config`."""

    tax_rate_bps: int = 1900
    upcoming_days: int = 3
    # Stripe finalizes a renewal draft an hour after its `invoice.created` delivery was
    # acknowledged, and at the latest 72 hours after creation while deliveries fail.
    finalize_after_s: int = 3600
    finalize_max_wait_s: int = 72 * 3600
    rate_limit_rps: int | None = None
    quantity_updates_per_hour: int | None = 200
    fault_seed: int | None = None
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)


@dataclass
class SubscriptionExtra:
    """What Stripe tracks about a subscription but does not show on the wire."""

    periods_elapsed: int = 0
    upcoming_sent_for: int | None = None
    pending_lines: list[dict[str, Any]] = field(default_factory=list)
    quantity_updates: list[int] = field(default_factory=list)


@dataclass
class DraftSchedule:
    """When an auto-advancing draft finalizes: Stripe waits for the `invoice.created`
    delivery to be acknowledged (2xx), then `finalize_after_s` of the invoice's clock."""

    created: int
    created_event: str | None = None
    acknowledged_at: int | None = None
    # `automatically_finalizes_at` set by the caller: no waiting for webhooks then.
    fixed_at: int | None = None


@dataclass
class RequestContext:
    """The API request an event is attributed to (`event.request`)."""

    request_id: str | None
    idempotency_key: str | None


KINDS = (
    "product",
    "price",
    "customer",
    "subscription",
    "invoice",
    "invoiceitem",
    "credit_note",
    "customer_balance_transaction",
    "tax_id",
    "checkout.session",
    "billing_portal.session",
    "subscription_schedule",
    "event",
    "webhook_endpoint",
    "test_helpers.test_clock",
    "coupon",
    "discount",
)


class DoubleState:
    """All objects and knobs; guard every access with `lock` (handlers run under it)."""

    def __init__(self, *, clock_start: int | None = None) -> None:
        self.lock = threading.RLock()
        self._clock_start = clock_start
        # Set by the app wiring: receives each stored event (webhook delivery) and
        # answers the ids of the endpoints it was queued for.
        self.event_sink: Callable[[dict[str, Any]], list[str]] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything, as after a fresh start."""
        with self.lock:
            self.config = Config()
            self.objects: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
            self.item_index: dict[str, str] = {}
            self.sub_extra: dict[str, SubscriptionExtra] = {}
            self.failing_customers: set[str] = set()
            self.endpoint_secrets: dict[str, str] = {}
            self.checkout_items: dict[str, dict[str, Any]] = {}
            # Invoice id → its draft's finalization schedule; event id → endpoints whose
            # delivery of it is not acknowledged yet; invoice item id → its line's id.
            self.drafts: dict[str, DraftSchedule] = {}
            self.draft_events: dict[str, str] = {}  # invoice.created event id → invoice id
            self.unacknowledged: dict[str, set[str]] = {}
            self.item_lines: dict[str, str] = {}
            # Payment methods attached to each customer (ids only: payment is simulated).
            self.payment_methods: dict[str, list[str]] = {}
            self.global_now: int | None = self._clock_start
            self.request: RequestContext | None = None

    # -- objects -----------------------------------------------------------------------

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store (or replace) an object under its `object` kind."""
        self.objects[obj["object"]][obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str, *, param: str = "id") -> dict[str, Any]:
        """The stored object, or Stripe's 404 `resource_missing`."""
        obj = self.objects[kind].get(object_id)
        if obj is None:
            raise missing(object_id, param=param)
        return obj

    def find(self, kind: str, object_id: str | None) -> dict[str, Any] | None:
        """The stored object or None."""
        if object_id is None:
            return None
        return self.objects[kind].get(object_id)

    def newest_first(self, kind: str) -> list[dict[str, Any]]:
        """Objects ordered like Stripe lists them: by `created` descending, newest insert first."""
        objs = list(reversed(self.objects[kind].values()))
        return sorted(objs, key=lambda o: int(o.get("created", 0)), reverse=True)

    def subscription_for_item(self, item_id: str) -> dict[str, Any]:
        """The subscription holding subscription item `item_id`."""
        sub = self.find("subscription", self.item_index.get(item_id))
        if sub is None:
            raise missing(item_id)
        return sub

    def item(self, item_id: str) -> dict[str, Any]:
        """The live subscription item dict (inside its subscription)."""
        sub = self.subscription_for_item(item_id)
        for item in sub["items"]["data"]:
            if item["id"] == item_id:
                return dict(item)
        raise missing(item_id)

    # -- time --------------------------------------------------------------------------

    def clock_of_customer(self, customer_id: str | None) -> str | None:
        """The test clock a customer belongs to, if any."""
        customer = self.find("customer", customer_id)
        if customer is None:
            return None
        clock = customer.get("test_clock")
        return clock if isinstance(clock, str) else None

    def scope_now(self, clock_id: str | None) -> int:
        """Current time in a scope: a test clock's frozen time, else the global clock."""
        if clock_id is not None:
            clock = self.find("test_helpers.test_clock", clock_id)
            if clock is not None:
                return int(clock["frozen_time"])
        if self.global_now is not None:
            return self.global_now
        return int(time.time())

    def now_for(self, customer_id: str | None) -> int:
        """Current time as seen by a customer's objects."""
        return self.scope_now(self.clock_of_customer(customer_id))

    def set_scope_now(self, clock_id: str | None, at: int) -> None:
        """Move a scope's time (used while replaying a renewal timeline)."""
        if clock_id is None:
            self.global_now = at
        else:
            self.objects["test_helpers.test_clock"][clock_id]["frozen_time"] = at


def snapshot(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so later mutations never leak into responses or events."""
    return copy.deepcopy(obj)
