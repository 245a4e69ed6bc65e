"""Decoding of Stripe's form encoding (`items[0][price]=x`) into typed, validated params."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from stripe_double.errors import invalid

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def _split_key(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    tail = "[" + rest
    parts = _SEGMENT.findall(tail)
    # Anything outside `[...]` groups means a malformed key such as `a[b]c`.
    if "".join(f"[{p}]" for p in parts) != tail:
        raise invalid(f"Invalid parameter name: {key}", param=key)
    return [head, *parts]


def _insert(root: dict[str, Any], key: str, value: str) -> None:
    parts = _split_key(key)
    node: dict[str, Any] = root
    for depth, segment in enumerate(parts):
        last = depth == len(parts) - 1
        # `expand[]=a&expand[]=b` appends, as Rails-style encoders mean it.
        part = segment or str(len(node))
        if last:
            if isinstance(node.get(part), dict):
                raise invalid(f"Conflicting values for parameter {key}", param=key)
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise invalid(f"Conflicting values for parameter {key}", param=key)
        node = child


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def decode_form(raw: str) -> dict[str, Any]:
    """Turn a query string or form body into nested dicts and lists of strings."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        _insert(root, key, value)
    result = _listify(root)
    if not isinstance(result, dict):
        return {}
    return result


class Params:
    """Typed access to decoded params; errors name the param in bracket notation."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        """The wire name of `key`, e.g. `items[0][quantity]`."""
        return f"{self.prefix}[{key}]" if self.prefix else key

    def has(self, key: str) -> bool:
        """Whether the caller sent `key` at all (an empty string counts)."""
        return key in self.data

    def reject_unknown(self, allowed: str) -> None:
        """Stripe refuses parameters an endpoint does not know; so does the double.

        `allowed` lists the known names separated by spaces (`expand` is always allowed).
        """
        known = set(allowed.split())
        for key in self.data:
            if key not in known and key != "expand":
                raise invalid(
                    f"Received unknown parameter: {self.name(key)}",
                    param=self.name(key),
                    code="parameter_unknown",
                )

    def refuse_unimplemented(self, names: str) -> None:
        """Real Stripe parameters the double cannot honour: refused by name when sent
        with a value, never silently ignored (`names` separated by spaces)."""
        for name in names.split():
            if self.data.get(name) not in (None, "", []):
                raise invalid(
                    f"The Stripe double does not implement {self.name(name)}.",
                    param=self.name(name),
                )

    def _scalar(self, key: str, required: bool) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise invalid(
                    f"Missing required param: {self.name(key)}.",
                    param=self.name(key),
                    code="parameter_missing",
                )
            return None
        if not isinstance(value, str):
            raise invalid(f"Invalid value for {self.name(key)}: expected a string.", param=key)
        return value

    def get_str(self, key: str, *, required: bool = False) -> str | None:
        """A string param; empty strings are returned as they are."""
        return self._scalar(key, required)

    def req_str(self, key: str) -> str:
        """A required, non-empty string param."""
        value = self._scalar(key, True)
        if not value:
            raise invalid(
                f"Missing required param: {self.name(key)}.",
                param=self.name(key),
                code="parameter_missing",
            )
        return value

    def get_int(
        self, key: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        """An integer param, sent as a decimal string."""
        raw = self._scalar(key, required)
        if raw is None or raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            raise invalid(
                f"Invalid integer: {raw}",
                param=self.name(key),
                code="parameter_invalid_integer",
            ) from None
        if minimum is not None and value < minimum:
            raise invalid(
                f"This value must be greater than or equal to {minimum}.",
                param=self.name(key),
                code="parameter_invalid_integer",
            )
        return value

    def get_decimal(self, key: str, *, places: int = 12) -> Decimal | None:
        """A decimal param (`unit_amount_decimal`, `quantity_decimal`): at most `places`
        decimal places, as Stripe accepts them."""
        raw = self._scalar(key, False)
        if raw is None or raw == "":
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        exponent = value.as_tuple().exponent
        if not value.is_finite() or not isinstance(exponent, int) or -exponent > places:
            raise invalid(
                f"Invalid decimal: {raw} (at most {places} decimal places)",
                param=self.name(key),
                code="parameter_invalid_decimal",
            )
        return value

    def get_bool(self, key: str, *, default: bool | None = None) -> bool | None:
        """A boolean param, sent as "true" / "false"."""
        raw = self._scalar(key, False)
        if raw is None or raw == "":
            return default
        if raw not in {"true", "false"}:
            raise invalid(f"Invalid boolean: {raw}", param=self.name(key))
        return raw == "true"

    def get_enum(
        self, key: str, choices: tuple[str, ...], *, default: str | None = None
    ) -> str | None:
        """A string param restricted to `choices`."""
        raw = self._scalar(key, False)
        if raw is None or raw == "":
            return default
        if raw not in choices:
            raise invalid(
                f"Invalid {self.name(key)}: must be one of {', '.join(choices)}",
                param=self.name(key),
            )
        return raw

    def get_obj(self, key: str) -> Params:
        """A nested hash param (empty when absent)."""
        value = self.data.get(key)
        if value is None or value == "":
            return Params({}, self.name(key))
        if not isinstance(value, dict):
            raise invalid(f"Invalid hash: {self.name(key)}", param=self.name(key))
        return Params(value, self.name(key))

    def get_list(self, key: str) -> list[Params]:
        """An array of hashes, e.g. `items[0][price]`."""
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if not isinstance(value, list):
            raise invalid(f"Invalid array: {self.name(key)}", param=self.name(key))
        out: list[Params] = []
        for index, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise invalid(f"Invalid array: {self.name(key)}", param=self.name(key))
            out.append(Params(entry, f"{self.name(key)}[{index}]"))
        return out

    def get_str_list(self, key: str) -> list[str]:
        """An array of strings, e.g. `enabled_events[]` or `expand[0]`."""
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(f"Invalid array: {self.name(key)}", param=self.name(key))
        return list(value)

    def metadata(self, key: str = "metadata") -> dict[str, str] | None:
        """Metadata updates; an empty string value means "unset this key", as in Stripe."""
        value = self.data.get(key)
        if value is None:
            return None
        if value == "":
            return {}
        if isinstance(value, list):
            # Numeric keys (`metadata[0]=x`) were turned into a list by the decoder.
            value = {str(i): v for i, v in enumerate(value)}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise invalid(f"Invalid hash: {self.name(key)}", param=self.name(key))
        return dict(value)


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Apply a metadata update: `""` unsets a key; `metadata=""` clears everything."""
    if update is None:
        return dict(current)
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
