"""Instants in and out: ISO 8601 with an explicit offset parsed, kept and printed in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.limits import instant_problem


class InstantError(ValueError):
    """Text that is not an ISO 8601 instant with a timezone."""


def parse_instant(text: str) -> datetime:
    """``2026-05-01T00:00:00Z`` or ``...+02:00`` → an aware UTC datetime in the ledger's range.

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
    # Checked before converting: year 1 at +14:00 is valid ISO 8601 but has no UTC form.
    problem = instant_problem(value)
    if problem is not None:
        msg = f"{text!r} {problem}"
        raise InstantError(msg)
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """An aware instant as people read it and :func:`parse_instant` takes it back:
    ``2026-01-01T00:00:00Z`` (fractions of a second only when there are some)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
