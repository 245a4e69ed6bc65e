"""What the ledger can hold: the bounds every outside value is checked against.

Each boundary (the webhook translator, the group-change intake, the HTTP query
parameters) checks its values against these before anything is recorded, and the
aggregate checks them again, so a value that a store or ``datetime`` arithmetic cannot
hold (a NUL in an id, a quantity beyond 64 bits, year 1 at +14:00) is refused with a
reason instead of stopping the worker later. docs/limits.md lists them.
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_PLATFORM_ID_LENGTH = 200
MAX_STRIPE_ID_LENGTH = 255
MAX_TEXT_LENGTH = 5_000
MAX_QUANTITY = 1_000_000
# Minor units: a trillion euros is 10^14 cents, so no real amount comes close.
MAX_ABS_AMOUNT = 10**15 - 1
# Far from datetime's edges, so a period, a lead or a backoff added to any accepted
# instant can never overflow; positive Unix time, as Stripe's own timestamps are.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=UTC)


class LimitError(ValueError):
    """A value outside what the ledger can hold; the message says which bound."""


def id_problem(value: object, *, max_length: int = MAX_PLATFORM_ID_LENGTH) -> str | None:
    """Why ``value`` cannot be an identifier, or None when it can.

    Identifiers are non-blank printable text (no control characters: PostgreSQL's
    ``text`` refuses NUL, and logs and exports must stay one line per record).
    """
    if not isinstance(value, str):
        return "must be a string"
    if not value.strip():
        return "must not be blank"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if not value.isprintable():
        return "must not contain control characters"
    return None


def text_problem(value: object, *, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """Why ``value`` cannot be stored as free text (a name, a reason), or None."""
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if "\x00" in value:
        return "must not contain NUL characters"
    return None


def quantity_problem(value: int) -> str | None:
    if not 0 <= value <= MAX_QUANTITY:
        return f"must be between 0 and {MAX_QUANTITY:,}"
    return None


def amount_problem(value: int) -> str | None:
    if abs(value) > MAX_ABS_AMOUNT:
        return f"must be less than 10^15 minor units in absolute value, got {value}"
    return None


def instant_problem(value: datetime) -> str | None:
    """Why an aware instant is outside the ledger's range, or None."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "must be timezone-aware"
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        return "must be between 1970-01-01 and 9000-01-01 (UTC)"
    return None


def check(problem: str | None, what: str) -> None:
    """Raise ``LimitError`` naming ``what`` when a ``*_problem`` check found one."""
    if problem is not None:
        msg = f"{what} {problem}"
        raise LimitError(msg)
