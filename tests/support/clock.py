"""A controllable clock: time is a process boundary, so tests may fake it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SteppingClock:
    """Starts at ``start`` and moves only when told (or by ``step`` on each read)."""

    def __init__(self, start: datetime | None = None, *, step: timedelta = timedelta(0)) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now = self.now + self.step
        return current

    def advance(self, delta: timedelta) -> datetime:
        self.now = self.now + delta
        return self.now
