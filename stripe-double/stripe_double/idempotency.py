"""Idempotency-Key handling as Stripe documents it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from stripe_double.errors import StripeError

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """The first result for a key: replayed byte for byte to later identical requests."""

    request_id: str
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: bytes
    should_retry: bool | None


class IdempotencyCache:
    """Keys are scoped per API key; Stripe prunes after 24 h, the double keeps them until reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stored: dict[tuple[str, str], StoredResponse] = {}
        self._in_flight: set[tuple[str, str]] = set()

    def begin(
        self, api_key: str, key: str, method: str, path: str, params: dict[str, Any]
    ) -> StoredResponse | None:
        """The stored response to replay, or None after marking the key in flight.

        Raises Stripe's idempotency_error for a key reused with other parameters, and a
        409 while the first request with that key is still running.
        """
        if len(key) > MAX_KEY_LENGTH:
            raise StripeError(
                f"Idempotency keys can be at most {MAX_KEY_LENGTH} characters long.",
                param="Idempotency-Key",
            )
        slot = (api_key, key)
        with self._lock:
            stored = self._stored.get(slot)
            if stored is not None:
                if (stored.method, stored.path, stored.params) != (method, path, params):
                    raise StripeError(
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        type_="idempotency_error",
                        status=400,
                    )
                return stored
            if slot in self._in_flight:
                raise StripeError(
                    "There is currently another in-progress request using this Idempotent "
                    "Key (that probably means you submitted twice, and the other request is "
                    "still going through): " + key + ". Please try again later.",
                    status=409,
                    code="idempotency_key_in_use",
                )
            self._in_flight.add(slot)
        return None

    def finish(self, api_key: str, key: str, stored: StoredResponse | None) -> None:
        """Release the in-flight mark and keep `stored` (if any) for replay."""
        slot = (api_key, key)
        with self._lock:
            self._in_flight.discard(slot)
            if stored is not None:
                self._stored[slot] = stored

    def stored(self) -> list[tuple[str, str, StoredResponse]]:
        """Every kept (api key, key, response), to persist them (docs/dev-stack.md)."""
        with self._lock:
            return [(api_key, key, kept) for (api_key, key), kept in self._stored.items()]

    def restore(self, entries: list[tuple[str, str, StoredResponse]]) -> None:
        """Keep these responses again, as after ``stored()`` in an earlier process."""
        with self._lock:
            for api_key, key, kept in entries:
                self._stored[(api_key, key)] = kept

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._stored.clear()
            self._in_flight.clear()
