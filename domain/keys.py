"""Every Stripe ``Idempotency-Key`` the ledger sends, made here and nowhere else.

A key is sent with a request so that a retry (after a crash, a timeout, a redelivery)
reaches Stripe as the same request: the same decision must always give the same key,
byte for byte, and two different requests never one key. Changing a format here would
make Stripe take a retry for a new request — a double charge — so the strings are
pinned by ``tests/unit/test_idempotency_keys.py``.

After an attempt whose outcome Stripe left unknown (a 5xx is stored under its key and
replayed to every retry with it), the next attempt needs a fresh key: ``fresh_key``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from domain.corrections import CorrectionKind


def _digest(material: str) -> str:
    return hashlib.sha256(material.encode()).hexdigest()


def sync_identity(
    *, organizer_id: str, item_id: str, period_end: datetime, quantity: int, generation: int
) -> tuple[str, str]:
    """(sync id, Idempotency-Key) for a request: the same inputs give the same key, forever."""
    digest = _digest(
        f"{organizer_id}|{item_id}|{int(period_end.timestamp())}|{quantity}|{generation}"
    )
    return f"sync_{digest[:24]}", f"renewal-ledger-{digest[:48]}"


def correction_identity(
    *,
    organizer_id: str,
    invoice_id: str,
    kind: CorrectionKind,
    billed_quantity: int,
    target_quantity: int,
    generation: int,
) -> tuple[str, str]:
    """(correction id, Idempotency-Key base): the same decision gives the same key."""
    digest = _digest(
        f"{organizer_id}|{invoice_id}|{kind.value}|{billed_quantity}|{target_quantity}|{generation}"
    )
    return f"corr_{digest[:24]}", f"renewal-ledger-corr-{digest[:43]}"


def fresh_key(base: str, generation: int) -> str:
    """The Idempotency-Key of attempt ``generation`` of a request whose earlier keys Stripe
    spent on an unknown outcome (a 5xx is stored under its key): same base, new suffix."""
    return base if generation == 0 else f"{base}-r{generation}"


def sync_attempt_key(*, idempotency_key: str, key_generation: int, next_key: str) -> str:
    """The key of a sync's next attempt: the one recorded with its last unknown outcome
    (since issue 10), else derived from its base and the keys spent."""
    return next_key or fresh_key(idempotency_key, key_generation)


def step_key(state: Mapping[str, Any], step: str, generation: int | None = None) -> str:
    """The Idempotency-Key of a correction's call ``step`` (each call its own key base),
    fresh after every attempt whose outcome Stripe left unknown."""
    used = state["key_generation"] if generation is None else generation
    return fresh_key(f"{state['idempotency_key']}-{step}", used)


def checkout_key(
    organizer_hex: str, attempt: int, quantity: int, *, replacing: Iterable[str] = ()
) -> str:
    """The key of enrollment ``attempt`` (a Checkout Session) for ``quantity`` groups.

    ``replacing``: the open sessions the ledger never recorded that enrolling just
    expired (one whose creation's response was lost, say). Their ids change the key, so
    Stripe cannot answer with the cached response of a session just expired."""
    key = f"ledger-checkout-{organizer_hex}-{attempt}-{quantity}"
    stray = sorted(set(replacing))
    if not stray:
        return key
    return f"{key}-r{hashlib.sha256(','.join(stray).encode()).hexdigest()[:16]}"


def customer_key(organizer_hex: str) -> str:
    """The key that creates an organizer's Stripe customer once, whatever the retries."""
    return f"ledger-customer-{organizer_hex}"


def move_key(organizer_id: str, item_id: str, to_price_id: str, quantity: int) -> str:
    """The key that moves a pre-ledger subscription's item to the per-group price once
    (a retried confirmation with the same quantity replays Stripe's first answer)."""
    digest = _digest(f"{organizer_id}|{item_id}|{to_price_id}|{quantity}")
    return f"ledger-move-{digest[:48]}"
