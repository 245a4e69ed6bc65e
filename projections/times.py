"""The one time codec: instants as read-model text, and as people type and read them.

Read-model columns hold fixed-width UTC text (``2026-05-01T00:00:00.000000Z``) so that
times sort and compare as strings on both stores: :func:`to_text` writes it and
:func:`from_text` reads it back. The CLI and the API take ISO 8601 with an explicit offset
(:func:`parse_instant`) and print :func:`format_instant`.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import overload

from domain.limits import instant_problem


@functools.lru_cache(maxsize=8192)
def to_text(value: datetime) -> str:
    """Fixed-width UTC text, so times sort and compare as strings on both backends."""
    # Cached: a replay formats the same few instants (one per saved batch) many times.
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def fmt_time(value: datetime | None) -> str | None:
    """:func:`to_text`, with None for no instant (a nullable column)."""
    return None if value is None else to_text(value)


def from_text(text: str) -> datetime:
    """An aware UTC datetime from read-model text (or any ISO 8601 text with an offset;
    ``Z`` accepted). Naive text is taken as UTC: the ledger stores nothing else."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@overload
def optional_from_text(text: str) -> datetime: ...
@overload
def optional_from_text(text: str | None) -> datetime | None: ...
def optional_from_text(text: str | None) -> datetime | None:
    """:func:`from_text`, with None for a NULL column."""
    return None if text is None else from_text(text)


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
