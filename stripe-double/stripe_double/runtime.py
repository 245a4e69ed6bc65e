"""The running double: state plus everything around it (webhooks, faults, logs, config)."""

from __future__ import annotations

import copy
import threading
from dataclasses import asdict, fields
from typing import Any

from stripe_double import finalization
from stripe_double.faults import FaultBook, RateLimiter
from stripe_double.idempotency import IdempotencyCache
from stripe_double.state import Config, DoubleState, WebhookConfig
from stripe_double.webhooks import WebhookDispatcher


def _typed(name: str, value: Any, current: Any) -> Any:
    """Check a config value against the type of its default (None allowed for optionals)."""
    if value is None:
        if name in {"rate_limit_rps", "quantity_updates_per_hour", "fault_seed", "seed"}:
            return None
        raise ValueError(f"{name} cannot be null")
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be a boolean")
        return value
    if isinstance(current, float) or name in {"duplicate_probability", "timeout_s"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    return value


class Double:
    """Everything one app instance holds; `state.lock` guards the Stripe objects."""

    def __init__(self, *, webhook_delivery: bool = True, clock_start: int | None = None) -> None:
        self.state = DoubleState(clock_start=clock_start)
        self.webhooks = WebhookDispatcher(enabled=webhook_delivery, on_ack=self._acknowledged)
        self.faults = FaultBook()
        self.rate_limiter = RateLimiter()
        self.idempotency = IdempotencyCache()
        self._log_lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self.state.event_sink = self._deliver

    def _deliver(self, event: dict[str, Any]) -> list[str]:
        endpoints = [
            (endpoint, self.state.endpoint_secrets.get(endpoint["id"], ""))
            for endpoint in self.state.objects["webhook_endpoint"].values()
        ]
        return self.webhooks.enqueue(event, endpoints)

    def _acknowledged(self, event_id: str, endpoint_id: str) -> None:
        """An endpoint answered 2xx to an event: a draft waiting for it may now be due.

        Called from the webhook thread outside the dispatcher's lock, so taking the state
        lock here cannot deadlock with a request that is queueing deliveries."""
        with self.state.lock:
            finalization.acknowledge(self.state, event_id, endpoint_id)

    def log_request(self, entry: dict[str, Any]) -> None:
        """Append one /v1 request to the request log (the caller may keep filling it in)."""
        with self._log_lock:
            self._requests.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first."""
        with self._log_lock:
            return [dict(entry) for entry in self._requests]

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._log_lock:
            self._requests.clear()

    def config_json(self) -> dict[str, Any]:
        """The current config as `GET /_double/config` shows it."""
        with self.state.lock:
            return asdict(self.state.config)

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a partial config (raises ValueError on unknown keys or bad types)."""
        with self.state.lock:
            # Work on a copy so a bad value leaves the config untouched.
            config = copy.deepcopy(self.state.config)
            top = {f.name for f in fields(Config)} - {"webhooks"}
            hooks = {f.name for f in fields(WebhookConfig)}
            for key, value in changes.items():
                if key == "webhooks":
                    if not isinstance(value, dict):
                        raise ValueError("webhooks must be an object")
                    for hook_key, hook_value in value.items():
                        if hook_key not in hooks:
                            raise ValueError(f"unknown webhooks setting: {hook_key}")
                        current = getattr(config.webhooks, hook_key)
                        setattr(config.webhooks, hook_key, _typed(hook_key, hook_value, current))
                elif key in top:
                    setattr(config, key, _typed(key, value, getattr(config, key)))
                else:
                    raise ValueError(f"unknown config setting: {key}")
            if not 0 <= config.webhooks.duplicate_probability <= 1:
                raise ValueError("duplicate_probability must be between 0 and 1")
            self.state.config = config
            hooks_changes = changes.get("webhooks") or {}
            self.webhooks.configure(config.webhooks, reseed="seed" in hooks_changes)
            if "fault_seed" in changes:
                self.faults.seed(config.fault_seed)
            return asdict(config)

    def reset(self) -> None:
        """Clear all state, config, rules, keys, logs and queued webhooks."""
        with self.state.lock:
            self.state.reset()
            self.webhooks.clear()
            self.webhooks.configure(WebhookConfig(), reseed=True)
            self.faults.clear()
            self.faults.seed(None)
            self.idempotency.clear()
            self.clear_requests()

    def close(self) -> None:
        """Stop background work (the webhook thread)."""
        self.webhooks.close()
