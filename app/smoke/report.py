"""A smoke run's steps: each one held or failed, one log line each, in order.

A line carries the step's name in the JSON ``step`` field (``LEDGER_LOG_FORMAT=json``)
and in its text, so ``kubectl logs`` of a failed CronJob run names what did not hold.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

log = logging.getLogger("ledger.smoke")
T = TypeVar("T")
Outcome = Literal["ok", "failed", "skipped"]
POLL_S = 0.25


class StepFailedError(Exception):
    """What a step found that does not hold (one line, shown as the step's reason)."""


@dataclass(frozen=True)
class StepResult:
    step: str
    outcome: Outcome
    seconds: float
    detail: str


@dataclass
class SmokeReport:
    """The steps run so far; the run succeeded only if every step held."""

    results: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.outcome == "failed"]

    @property
    def succeeded(self) -> bool:
        return bool(self.results) and not self.failed

    def run(self, step: str, action: Callable[[], str | None]) -> bool:
        """Run one step; log its line; True if it held. ``action`` returns what it saw."""
        started = time.monotonic()
        try:
            detail = action() or ""
        except Exception as error:  # any error fails this step, never the whole report
            reason = str(error) if isinstance(error, StepFailedError) else _describe(error)
            self._record(step, "failed", started, reason)
            return False
        self._record(step, "ok", started, detail)
        return True

    def skip(self, step: str, why: str) -> None:
        self._record(step, "skipped", time.monotonic(), why)

    def _record(self, step: str, outcome: Outcome, started: float, detail: str) -> None:
        result = StepResult(step, outcome, round(time.monotonic() - started, 3), detail)
        self.results.append(result)
        line = f"step {step}: {outcome} in {result.seconds:.1f}s" + (
            f": {detail}" if detail else ""
        )
        extra = {"step": step, "outcome": outcome, "duration_s": result.seconds}
        log.log(logging.ERROR if outcome == "failed" else logging.INFO, line, extra=extra)


def _describe(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def eventually(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll ``check`` until it returns a value; fail the step after ``timeout`` seconds.

    ``check`` may raise ``StepFailedError`` to describe what it saw last; that text ends
    up in the failure, so a timeout says what the ledger showed instead.
    """
    deadline = time.monotonic() + timeout
    seen = "nothing yet"
    while True:
        try:
            value = check()
        except StepFailedError as error:
            value, seen = None, str(error)
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            msg = f"{what} not seen within {timeout:g}s (last: {seen})"
            raise StepFailedError(msg)
        time.sleep(POLL_S)
