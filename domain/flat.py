"""Field dicts of the domain's flat value objects, without ``dataclasses.asdict``.

``asdict`` walks and deep-copies every value: for frozen dataclasses whose fields are
strings, numbers, instants, ``None`` or tuples of those, a shallow dict is the same
value, and building one is what every event and snapshot of such an object costs
(``asdict`` was ~15% of the worker's CPU per Stripe delivery, issue 12).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

_NAMES: dict[type[Any], tuple[str, ...]] = {}


def field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def field_values(obj: Any) -> dict[str, Any]:
    """``{field: value}`` of a flat dataclass instance (values shared, not copied)."""
    return {name: getattr(obj, name) for name in field_names(type(obj))}
