"""The double's state in one JSON file, so a restarted double has the world Stripe would.

What is kept: every attribute of ``DoubleState`` (objects, config, clocks, secrets and
whatever state later versions add), the idempotency keys and the webhook deliveries
not yet sent. What is not: the request and delivery logs and the fault rules (test
knobs and diagnostics, not Stripe's state).

The snapshot is generic on purpose: attributes are taken as they are (``vars``), and
plain data (dicts, lists, str, int, float, bool, None) is written as JSON, with three
tagged shapes for the rest: dataclasses of this package, sets, and bytes. A value of
any other type fails the save loudly rather than being dropped. The file is ours, but
loading still never runs code: a tag can only name a dataclass of this package.

``StateFile`` writes a new snapshot (temporary file, then rename: a reader or a crash
sees the old file or the new one) when the state changed, and once more at shutdown.
Encoding a large state takes a while under the double's lock (35 MB, 8,400 events: about
60 ms), so it is only done within ``interval_s`` of a change the server reported
(``changed()``: any request other than a GET) or while webhooks are being delivered, and
otherwise every ``idle_s`` (state that moved some other way is written then).
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

import orjson

from stripe_double.idempotency import StoredResponse
from stripe_double.runtime import Double
from stripe_double.state import KINDS
from stripe_double.webhooks import Delivery

log = logging.getLogger(__name__)
FORMAT = 1
TAG = "__double__"
PACKAGE = "stripe_double."
# Where the double lived before it became a package of its own: state files written then
# (a dev stack's var/stripe-double.json) name its classes there.
FORMER_PACKAGE = "adapters.stripe.double."
# Per-process wiring, not state.
TRANSIENT = frozenset({"lock", "event_sink", "request", "_clock_start"})


class StateFileError(ValueError):
    """The state file cannot be read back; the message names it and what to do."""


def _tagged(value: Any) -> Any:
    """orjson's hook for what JSON has no shape for."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        return {
            TAG: "dataclass",
            "type": f"{kind.__module__}:{kind.__qualname__}",
            "fields": {f.name: getattr(value, f.name) for f in dataclasses.fields(value)},
        }
    if isinstance(value, set | frozenset):
        try:
            items = sorted(value)  # the same set always writes the same bytes
        except TypeError:
            items = list(value)
        return {TAG: "frozenset" if isinstance(value, frozenset) else "set", "items": items}
    if isinstance(value, bytes):
        return {TAG: "bytes", "base64": base64.b64encode(value).decode()}
    msg = f"the double's state holds a {type(value).__name__}, which persist.py cannot store"
    raise TypeError(msg)


def encode(value: Any) -> bytes:
    """``value`` as JSON bytes (see the module docstring for the tagged shapes)."""
    return orjson.dumps(value, default=_tagged, option=orjson.OPT_PASSTHROUGH_DATACLASS)


def decode(raw: bytes) -> Any:
    """The value ``encode`` wrote."""
    return _revive(orjson.loads(raw))


def _revive(value: Any) -> Any:
    if isinstance(value, list):
        return [_revive(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {key: _revive(item) for key, item in value.items()}
    if tag == "set":
        return {_revive(item) for item in value["items"]}
    if tag == "frozenset":
        return frozenset(_revive(item) for item in value["items"])
    if tag == "bytes":
        return base64.b64decode(value["base64"])
    if tag == "dataclass":
        return _dataclass(str(value["type"]), _revive(value["fields"]))
    msg = f"unknown tag {tag!r}"
    raise ValueError(msg)


def _dataclass(name: str, values: dict[str, Any]) -> Any:
    module_name, _, qualname = name.partition(":")
    if module_name.startswith(FORMER_PACKAGE):
        module_name = PACKAGE + module_name.removeprefix(FORMER_PACKAGE)
    if not module_name.startswith(PACKAGE):
        msg = f"{name} is not a class of the double"
        raise ValueError(msg)
    kind: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        kind = getattr(kind, part)
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        msg = f"{name} is not a dataclass"
        raise ValueError(msg)
    # Fields added since the file was written take their defaults; removed ones are dropped.
    known = {f.name for f in dataclasses.fields(kind) if f.init}
    return kind(**{key: item for key, item in values.items() if key in known})


def snapshot(double: Double) -> bytes:
    """The whole persistent state of ``double``, encoded (under its lock: consistent)."""
    extras = {
        "idempotency": [list(entry) for entry in double.idempotency.stored()],
        "webhooks": double.webhooks.queued(),
    }
    with double.state.lock:
        state = {k: v for k, v in vars(double.state).items() if k not in TRANSIENT}
        return encode({"format": FORMAT, "state": state, **extras})


def restore(double: Double, raw: bytes) -> None:
    """Replace ``double``'s state with a snapshot (``snapshot``'s bytes)."""
    data = decode(raw)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = f"not a format-{FORMAT} snapshot"
        raise ValueError(msg)
    state = double.state
    with state.lock:
        state.reset()
        current = vars(state)
        for name, value in data["state"].items():
            # Only attributes this version has: one it dropped must not linger.
            if name in current and name not in TRANSIENT:
                setattr(state, name, value)
        for kind in KINDS:  # a snapshot from before a kind existed (tax_id) has none
            state.objects.setdefault(kind, {})
        double.webhooks.configure(state.config.webhooks, reseed=True)
        double.faults.seed(state.config.fault_seed)
    kept = [(str(a), str(k), v) for a, k, v in data["idempotency"] if isinstance(v, StoredResponse)]
    double.idempotency.restore(kept)
    double.webhooks.restore([d for d in data["webhooks"] if isinstance(d, Delivery)])


class StateFile:
    """Keeps ``double``'s state in ``path``: ``load()`` at start, then ``start()`` a thread
    that saves changes every ``interval_s``; ``stop()`` saves a last time."""

    def __init__(
        self, path: Path, double: Double, *, interval_s: float = 0.5, idle_s: float = 10.0
    ) -> None:
        self.path = path
        self.double = double
        self.interval_s = interval_s
        self.idle_s = idle_s
        self._written: bytes | None = None
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def load(self) -> bool:
        """Restore the saved state, if there is a file; False when starting afresh."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return False
        try:
            restore(self.double, raw)
        except (ValueError, TypeError, KeyError, AttributeError, ImportError) as error:
            msg = (
                f"{self.path} is not a state file of this double ({error}):"
                " move it away, or start afresh with `ledger dev reset`"
            )
            raise StateFileError(msg) from None
        self._written = raw
        log.info("restored the double's state from %s", self.path)
        return True

    def save(self) -> bool:
        """Write the state if it changed since the last write; True if it wrote."""
        raw = snapshot(self.double)
        if raw == self._written:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        # 0600: the file holds webhook signing secrets.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        self._written = raw
        return True

    def changed(self) -> None:
        """The state may have changed (called by the server after each mutating request)."""
        self._changed.set()

    def start(self) -> None:
        """Save changes in a background thread until ``stop()``."""
        self._thread = threading.Thread(target=self._run, name="stripe-double-persist", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and save a last time."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._save_logged()

    def _run(self) -> None:
        idle = 0.0
        delivering = False
        while not self._stop.wait(self.interval_s):
            # A delivery's outcome can change the state too (acknowledged drafts): look
            # once more after the last one finished.
            was_delivering, delivering = delivering, self.double.webhooks.pending() > 0
            idle += self.interval_s
            if self._changed.is_set() or delivering or was_delivering or idle >= self.idle_s:
                self._changed.clear()
                idle = 0.0
                self._save_logged()

    def _save_logged(self) -> None:
        try:
            self.save()
        except (OSError, TypeError) as error:
            if not self._failing:  # once per failure streak, not every half second
                log.error("could not save the double's state to %s: %s", self.path, error)
            self._failing = True
        else:
            self._failing = False
