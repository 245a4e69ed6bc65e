"""Parsing instants from outside input: ISO 8601 with an explicit offset, kept in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


class InstantError(ValueError):
    """Text that is not an ISO 8601 instant with a timezone."""


def parse_instant(text: str) -> datetime:
    """``2026-05-01T00:00:00Z`` or ``...+02:00`` → an aware UTC datetime.

    A naive time is refused rather than guessed: billing instants must be exact.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"{text!r} is not an ISO 8601 instant (e.g. 2026-05-01T00:00:00Z)"
        raise InstantError(msg) from None
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{text!r} has no timezone (add Z or an offset like +02:00)"
        raise InstantError(msg)
    return value.astimezone(UTC)
