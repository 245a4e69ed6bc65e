"""Webhook signing and at-least-once delivery from a background thread."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from stripe_double.events import endpoint_matches
from stripe_double.state import WebhookConfig


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's `Stripe-Signature` header value: `t=<unix>,v1=<hex hmac-sha256>`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Delivery:
    """One queued POST of one event to one endpoint."""

    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    secret: str
    body: bytes
    attempt: int = 1
    due: float = 0.0
    duplicate: bool = False


def _post(url: str, body: bytes, signature: str, timeout: float) -> int:
    parts = urlsplit(url)
    conn_cls = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_cls(parts.netloc, timeout=timeout)
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) renewal-ledger-double",
        }
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class WebhookDispatcher:
    """Queues deliveries and sends them from one worker thread, retrying with backoff.

    Shuffling picks a random due delivery instead of the oldest; duplicates re-send a
    delivered event once more. Both mimic Stripe's "unordered, at least once" contract.
    """

    def __init__(
        self, *, enabled: bool = True, on_ack: Callable[[str, str], None] | None = None
    ) -> None:
        self.enabled = enabled
        # (event id, endpoint id) of each first 2xx answer: drafts wait for those.
        self.on_ack = on_ack
        self.config = WebhookConfig()
        self._cond = threading.Condition()
        self._queue: list[Delivery] = []
        self._in_flight = 0
        self._log: list[dict[str, Any]] = []
        self._rng = random.Random()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def configure(self, config: WebhookConfig, *, reseed: bool) -> None:
        """Apply new settings; `reseed` restarts the random sequence from `config.seed`
        (a seed makes shuffles and duplicates reproducible)."""
        with self._cond:
            self.config = replace(config)
            if reseed:
                self._rng = random.Random(config.seed)
            self._cond.notify_all()

    def enqueue(
        self, event: dict[str, Any], endpoints: list[tuple[dict[str, Any], str]]
    ) -> list[str]:
        """Queue `event` for each (endpoint, secret) subscribed to its type; answers the ids
        of those endpoints (none when delivery is off)."""
        targets = [(e, secret) for e, secret in endpoints if endpoint_matches(e, event["type"])]
        if not self.enabled or not targets:
            return []
        body = json.dumps(event, indent=2).encode()
        with self._cond:
            for endpoint, secret in targets:
                self._queue.append(
                    Delivery(
                        event_id=event["id"],
                        event_type=event["type"],
                        endpoint_id=endpoint["id"],
                        url=endpoint["url"],
                        secret=secret,
                        body=body,
                        due=time.monotonic(),
                    )
                )
            self._ensure_thread()
            self._cond.notify_all()
        return [endpoint["id"] for endpoint, _ in targets]

    def _ensure_thread(self) -> None:
        if self._thread is None and self._queue:
            self._stopping = False
            self._thread = threading.Thread(
                target=self._work, name="stripe-double-webhooks", daemon=True
            )
            self._thread.start()

    def _next(self) -> Delivery | None:
        """Wait for a due delivery (None when stopping)."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                due = [] if self.config.paused else [d for d in self._queue if d.due <= now]
                if due:
                    pick = self._rng.choice(due) if self.config.shuffle else due[0]
                    self._queue.remove(pick)
                    self._in_flight += 1
                    return pick
                wait = min((d.due for d in self._queue), default=now + 1.0) - now
                self._cond.wait(timeout=max(wait, 0.001))
            return None

    def _work(self) -> None:
        while (delivery := self._next()) is not None:
            status: int | None = None
            error: str | None = None
            try:
                signature = sign(delivery.body, delivery.secret, int(time.time()))
                status = _post(delivery.url, delivery.body, signature, self.config.timeout_s)
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
            try:
                if self._record(delivery, status, error) and self.on_ack is not None:
                    self.on_ack(delivery.event_id, delivery.endpoint_id)
            finally:
                # Still in flight until the acknowledgement took effect: a flush that
                # returned guarantees every acknowledged draft is scheduled.
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _record(self, delivery: Delivery, status: int | None, error: str | None) -> bool:
        """Log one attempt and queue what follows; True for a first acknowledgement."""
        ok = status is not None and 200 <= status < 300
        with self._cond:
            cfg = self.config
            if ok:
                outcome = "delivered"
                if not delivery.duplicate and self._rng.random() < cfg.duplicate_probability:
                    self._queue.append(
                        replace(delivery, attempt=1, due=time.monotonic(), duplicate=True)
                    )
            elif delivery.attempt < cfg.max_attempts:
                outcome = "retrying"
                backoff = cfg.retry_base_ms / 1000 * 2 ** (delivery.attempt - 1)
                self._queue.append(
                    replace(delivery, attempt=delivery.attempt + 1, due=time.monotonic() + backoff)
                )
            else:
                outcome = "gave_up"
            self._log.append(
                {
                    "event_id": delivery.event_id,
                    "type": delivery.event_type,
                    "endpoint": delivery.endpoint_id,
                    "url": delivery.url,
                    "attempt": delivery.attempt,
                    "status": status,
                    "error": error,
                    "duplicate": delivery.duplicate,
                    "outcome": outcome,
                    "at": time.time(),
                }
            )
            self._cond.notify_all()
        return ok and not delivery.duplicate

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued or in flight; False if `timeout` ran out first
        (at once when paused with deliveries queued)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                if self.config.paused and not self._in_flight:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(timeout=remaining)
        return True

    def deliveries(self) -> list[dict[str, Any]]:
        """Every attempt so far, oldest first."""
        with self._cond:
            return [dict(entry) for entry in self._log]

    def pending(self) -> int:
        """Deliveries queued or in flight."""
        with self._cond:
            return len(self._queue) + self._in_flight

    def queued(self) -> list[Delivery]:
        """Deliveries waiting to be sent, to persist them (docs/dev-stack.md)."""
        with self._cond:
            return list(self._queue)

    def restore(self, deliveries: list[Delivery]) -> None:
        """Queue deliveries an earlier process left unsent; they are due at once."""
        with self._cond:
            now = time.monotonic()
            self._queue.extend(replace(d, due=now) for d in deliveries)
            if self.enabled:
                self._ensure_thread()
            self._cond.notify_all()

    def clear(self) -> None:
        """Drop queued deliveries and the attempt log (in-flight ones still finish)."""
        with self._cond:
            self._queue.clear()
            self._log.clear()
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the worker thread (queued deliveries are dropped)."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout=10)
