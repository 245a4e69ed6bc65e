"""Signing Stripe deliveries the way Stripe does, for tests and benchmarks."""

from __future__ import annotations

import time
from typing import Any

import orjson
import stripe

SECRET = "whsec_test_primary_0000000000000000"
ROTATED_SECRET = "whsec_test_rotated_000000000000000"


def sign(body: bytes, secret: str = SECRET, *, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``body`` (``t=...,v1=...``)."""
    return str(
        stripe.WebhookSignature.generate_signature_header(
            body.decode("utf-8"), secret, timestamp=timestamp or int(time.time())
        )
    )


def signed(event: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(event)
    return body, {"Stripe-Signature": sign(body, secret), "Content-Type": "application/json"}
