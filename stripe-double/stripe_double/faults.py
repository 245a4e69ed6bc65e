"""Fault injection rules and the optional request-rate limiter."""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from stripe_double.errors import StripeError

_MESSAGES = {
    "rate_limit": "Request rate limit exceeded. You can learn more about rate limits here "
    "https://stripe.com/docs/rate-limits.",
    "lock_timeout": "This object cannot be accessed right now because another API request or "
    "Stripe process is currently accessing it. If you see this error intermittently, retry "
    "the request. If you see this error frequently and are making multiple concurrent "
    "requests to a single object, make your requests serially or at a lower rate.",
}


@dataclass
class FaultRule:
    """One `POST /_double/faults` rule; see docs/stripe-double.md for the fields."""

    id: str
    method: str | None
    path: re.Pattern[str]
    status: int | None
    error_code: str | None
    error_type: str | None
    message: str | None
    should_retry: bool | None
    count: int | None
    probability: float | None
    delay_ms: int
    drop_connection: bool
    after_processing: bool
    fired: int = 0

    def to_json(self) -> dict[str, Any]:
        """The rule as the admin API shows it (`remaining` counts down with `count`)."""
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "error_code": self.error_code,
            "error_type": self.error_type,
            "message": self.message,
            "should_retry": self.should_retry,
            "remaining": self.count,
            "probability": self.probability,
            "delay_ms": self.delay_ms,
            "drop_connection": self.drop_connection,
            "after_processing": self.after_processing,
            "fired": self.fired,
        }

    def error(self) -> StripeError | None:
        """The error this rule answers with (None: it only delays or drops)."""
        status = self.status
        if status is None and self.error_code in _MESSAGES:
            status = 429
        if status is None:
            return None
        if self.error_type is not None:
            type_ = self.error_type
        elif status >= 500:
            type_ = "api_error"
        elif status == 402:
            type_ = "card_error"
        else:
            type_ = "invalid_request_error"
        code = self.error_code or {429: "rate_limit", 402: "card_declined"}.get(status)
        message = self.message or _MESSAGES.get(
            code or "", "An error occurred (injected by the double)."
        )
        return StripeError(
            message,
            type_=type_,
            status=status,
            code=code,
            should_retry=self.should_retry,
            # Stripe saves a result only once an endpoint began executing: 5xx and card
            # errors replay on an idempotent retry, 4xx rejections do not.
            cacheable=status >= 500 or status == 402,
        )


def default_should_retry(status: int | None, error_code: str | None) -> bool | None:
    """`Stripe-Should-Retry` as Stripe sends it when a rule does not say.

    Most 500s carry `false` (Stripe's idempotency layer would only replay the error, see
    the SDK's `_should_retry`); lock timeouts carry `true` (worth retrying); real rate
    limits carry nothing, so the SDK does not retry them (stripe-dotnet#1886).
    """
    if status is None and error_code in _MESSAGES:
        status = 429
    if status is not None and status >= 500:
        return False
    if status == 429 and error_code == "lock_timeout":
        return True
    return None


def _opt_bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be true, false or null")


class FaultBook:
    """The active rules; the first matching rule that fires wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._rng = random.Random()

    def seed(self, seed: int | None) -> None:
        """Make `probability` rules reproducible."""
        with self._lock:
            self._rng = random.Random(seed)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Validate and add a rule from its JSON spec (raises ValueError)."""
        known = {
            "method", "path", "status", "error_code", "error_type", "message", "should_retry",
            "count", "probability", "delay_ms", "drop_connection", "after_processing",
        }  # fmt: skip
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        count = spec.get("count")
        probability = spec.get("probability")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer")
        if probability is not None and not 0 <= float(probability) <= 1:
            raise ValueError("probability must be between 0 and 1")
        status = spec.get("status")
        if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
            raise ValueError("status must be an HTTP error status (400-599)")
        rule = FaultRule(
            id=f"fault_{next(self._ids)}",
            method=str(spec["method"]).upper() if spec.get("method") else None,
            path=re.compile(str(spec.get("path") or ".*")),
            status=status,
            error_code=spec.get("error_code"),
            error_type=spec.get("error_type"),
            message=spec.get("message"),
            # Absent: Stripe's default for the error; null: no header at all.
            should_retry=(
                _opt_bool(spec["should_retry"], "should_retry")
                if "should_retry" in spec
                else default_should_retry(status, spec.get("error_code"))
            ),
            count=count,
            probability=None if probability is None else float(probability),
            delay_ms=int(spec.get("delay_ms") or 0),
            drop_connection=bool(spec.get("drop_connection", False)),
            after_processing=bool(spec.get("after_processing", False)),
        )
        if rule.error() is None and not rule.delay_ms and not rule.drop_connection:
            raise ValueError("a fault needs a status, an error_code, delay_ms or drop_connection")
        with self._lock:
            self._rules.append(rule)
        return rule

    def rules(self) -> list[dict[str, Any]]:
        """All rules, exhausted ones included."""
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def match(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, consuming one of its `count`."""
        with self._lock:
            for rule in self._rules:
                if rule.method not in (None, method) or not rule.path.search(path):
                    continue
                if rule.count is not None and rule.count <= 0:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                return rule
        return None


class RateLimiter:
    """Fixed one-second windows, like Stripe's per-second request limits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = 0
        self._count = 0

    def allow(self, rps: int | None) -> bool:
        """Count a request; False when `rps` requests already hit this second."""
        if rps is None:
            return True
        with self._lock:
            window = int(time.monotonic())
            if window != self._window:
                self._window, self._count = window, 0
            self._count += 1
            return self._count <= rps
