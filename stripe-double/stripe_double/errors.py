"""Stripe-shaped API errors raised by the double's handlers."""

from __future__ import annotations

from typing import Any

_STATUS_FOR_TYPE = {
    "invalid_request_error": 400,
    "card_error": 402,
    "api_error": 500,
    "idempotency_error": 400,
    "authentication_error": 401,
}


class StripeError(Exception):
    """An error the double answers with Stripe's `{"error": {...}}` body.

    `cacheable` says whether an idempotent request that ended in this error stores it for
    replay: Stripe saves no result when the request failed validation before any endpoint
    logic ran, so those can be retried with the same key.
    """

    def __init__(
        self,
        message: str,
        *,
        type_: str = "invalid_request_error",
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        should_retry: bool | None = None,
        decline_code: str | None = None,
        cacheable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type_
        self.status = status if status is not None else _STATUS_FOR_TYPE.get(type_, 400)
        self.code = code
        self.param = param
        self.should_retry = should_retry
        self.decline_code = decline_code
        self.cacheable = cacheable if cacheable is not None else type_ != "invalid_request_error"

    def body(self) -> dict[str, Any]:
        """The JSON body Stripe sends for this error."""
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            err["param"] = self.param
        if self.decline_code is not None:
            err["decline_code"] = self.decline_code
        return {"error": err}


_NOUNS = {
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "sub": "subscription",
    "si": "subscription item",
    "in": "invoice",
    "ii": "invoiceitem",
    "cn": "credit note",
    "cbtxn": "customer balance transaction",
    "pm": "PaymentMethod",
    "cs": "checkout.session",
    "sub_sched": "subscription schedule",
    "bps": "billing portal session",
    "evt": "event",
    "we": "webhook endpoint",
    "clock": "test clock",
}


def missing(object_id: str, *, param: str = "id", noun: str | None = None) -> StripeError:
    """Stripe's "No such customer: 'cus_x'": 404 for a URL id, 400 when a param names it."""
    prefix = "sub_sched" if object_id.startswith("sub_sched_") else object_id.split("_", 1)[0]
    name = noun or _NOUNS.get(prefix, "object")
    return StripeError(
        f"No such {name}: '{object_id}'",
        status=404 if param == "id" else 400,
        code="resource_missing",
        param=param,
    )


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """A 400 parameter error (never stored for idempotent replay)."""
    return StripeError(message, code=code or "parameter_invalid", param=param)


def rate_limited(message: str, *, code: str = "rate_limit") -> StripeError:
    """Stripe's 429; the SDK maps any 429 to RateLimitError."""
    return StripeError(message, status=429, code=code)


def card_declined() -> StripeError:
    """Stripe's 402 for a declined card (customers marked to fail payments get it)."""
    return StripeError(
        "Your card was declined.",
        type_="card_error",
        code="card_declined",
        decline_code="generic_decline",
    )
