"""Typed, path-aware reads from a parsed Stripe webhook payload.

Every read names the field it failed on (``data.object.items.data[0].quantity``), so
a malformed delivery is marked failed in the inbox with a reason someone can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.limits import (
    MAX_ABS_AMOUNT,
    MAX_QUANTITY,
    MAX_STRIPE_ID_LENGTH,
    id_problem,
    instant_problem,
)

_CURRENCY_LENGTH = 3


class TranslationError(ValueError):
    """A payload that is malformed for its event type (missing field, wrong type)."""


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


@dataclass(frozen=True, slots=True)
class Node:
    """A JSON object inside the payload, with the path that led to it."""

    data: Mapping[str, Any]
    path: str

    @classmethod
    def root(cls, value: object, path: str) -> Node:
        if not isinstance(value, Mapping):
            msg = f"{path} must be a JSON object, got {_kind(value)}"
            raise TranslationError(msg)
        return cls(value, path)

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        """Whether ``key`` is present and not null."""
        return self.data.get(key) is not None

    def _required(self, key: str) -> object:
        value = self.data.get(key)
        if value is None:
            msg = f"{self.where(key)} is missing"
            raise TranslationError(msg)
        return value

    def _wrong(self, key: str, expected: str) -> TranslationError:
        return TranslationError(
            f"{self.where(key)} must be {expected}, got {_kind(self.data.get(key))}"
        )

    def text(self, key: str) -> str:
        """An id, a status, a type: printable, bounded text (never a control character,
        which PostgreSQL's ``text`` or a one-line log could not hold)."""
        value = self._required(key)
        if not isinstance(value, str) or not value.strip():
            raise self._wrong(key, "a non-empty string")
        problem = id_problem(value, max_length=MAX_STRIPE_ID_LENGTH)
        if problem is not None:
            msg = f"{self.where(key)} {problem}"
            raise TranslationError(msg)
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def integer(self, key: str) -> int:
        value = self._required(key)
        # bool is an int subclass; a JSON true is never an amount or a count.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "an integer")
        # Beyond any real amount or time, and beyond what a 64-bit column holds.
        if abs(value) > MAX_ABS_AMOUNT:
            msg = f"{self.where(key)} is out of range (|value| must be below 10^15)"
            raise TranslationError(msg)
        return value

    def quantity(self, key: str) -> int:
        """A count of groups (a subscription item's or an invoice line's quantity)."""
        value = self.integer(key)
        if value < 0:
            msg = f"{self.where(key)} must not be negative, got {value}"
            raise TranslationError(msg)
        if value > MAX_QUANTITY:
            msg = f"{self.where(key)} must be at most {MAX_QUANTITY:,}, got {value}"
            raise TranslationError(msg)
        return value

    def line_quantity(self) -> int:
        """An invoice line's quantity: ``quantity``, else (Stripe is moving to it) the
        decimal string ``quantity_decimal``, which must then be a whole count of groups."""
        if self.has("quantity") or not self.has("quantity_decimal"):
            return self.quantity("quantity")
        key = "quantity_decimal"
        value = self.data[key]
        # The SDK's objects hold it as Decimal; JSON sends a string. Never a float.
        if isinstance(value, bool) or not isinstance(value, str | Decimal):
            raise self._wrong(key, "a decimal string")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self._wrong(key, "a decimal string") from None
        if not number.is_finite() or number != number.to_integral_value():
            msg = f"{self.where(key)} must be a whole number of groups, got {value}"
            raise TranslationError(msg)
        whole = int(number)
        if not 0 <= whole <= MAX_QUANTITY:
            msg = f"{self.where(key)} must be between 0 and {MAX_QUANTITY:,}, got {value}"
            raise TranslationError(msg)
        return whole

    def optional_integer(self, key: str) -> int | None:
        return self.integer(key) if self.has(key) else None

    def flag(self, key: str) -> bool:
        """A boolean that Stripe omits or nulls when false."""
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._wrong(key, "a boolean")
        return value

    def instant(self, key: str) -> datetime:
        """A Unix timestamp (Stripe's only time format) as an aware UTC datetime."""
        seconds = self.integer(key)
        try:
            value = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise self._wrong(key, "a Unix timestamp") from None
        problem = instant_problem(value)
        if problem is not None:
            msg = f"{self.where(key)} {problem}"
            raise TranslationError(msg)
        return value

    def currency(self, key: str) -> str:
        value = self.text(key)
        if len(value) != _CURRENCY_LENGTH or not (value.isascii() and value.isalpha()):
            raise self._wrong(key, "a three-letter ISO currency code")
        return value.lower()

    def child(self, key: str) -> Node:
        return Node.root(self._required(key), self.where(key))

    def optional_child(self, key: str) -> Node | None:
        return self.child(key) if self.has(key) else None

    def entries(self, key: str) -> list[Node]:
        """A JSON array of objects (an absent or null array reads as empty)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "an array")
        return [Node.root(entry, f"{self.where(key)}[{i}]") for i, entry in enumerate(value)]

    def list_data(self, key: str) -> list[Node]:
        """The ``data`` of a Stripe list object such as ``items`` or ``lines``."""
        return self.child(key).entries("data")

    def ref(self, key: str) -> str:
        """The id of a reference, whether Stripe sent it as an id or expanded it."""
        value = self._required(key)
        if isinstance(value, Mapping):
            return self.child(key).text("id")
        return self.text(key)

    def optional_ref(self, key: str) -> str | None:
        return self.ref(key) if self.has(key) else None

    def refs(self, key: str) -> list[str]:
        """The ids of a JSON array of references, each an id or an expanded object (an
        absent or null array reads as empty)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "an array")
        holder = Node({str(i): entry for i, entry in enumerate(value)}, self.where(key))
        return [holder.ref(str(i)) for i in range(len(value))]
