"""The hash chain of an audit export (defined in docs/audit-export.md).

``genesis = sha256_hex(preamble)`` — the file's bytes before its first row, which name
the format, the columns and the filter. Then, row by row,
``chain_i = sha256_hex(ascii(chain_{i-1}) + canonical(values_i))`` where ``values_i`` are
the row's column values in column order, exactly as the file holds them (JSON values
in JSON lines, field strings in CSV). The last link is the export's final hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from app.services.audit.entries import COLUMNS

EXPORT_VERSION = "renewal-ledger-audit/1"


def export_header(format_name: str, filter_description: Mapping[str, str | None] | None) -> bytes:
    """The header object both formats start with (compact JSON, sorted keys)."""
    return orjson.dumps(
        {
            "audit_export": EXPORT_VERSION,
            "columns": list(COLUMNS),
            "filter": filter_description,
            "format": format_name,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def canonical(values: Sequence[Any]) -> bytes:
    """A row's values as compact JSON with sorted object keys: the bytes that are hashed.

    For these values (strings, integers, null, objects of them) this equals Python's
    ``json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``,
    so an auditor can recompute a chain without this code.
    """
    return orjson.dumps(list(values), option=orjson.OPT_SORT_KEYS)


def genesis(preamble: bytes) -> str:
    return hashlib.sha256(preamble).hexdigest()


def link(previous: str, values: Sequence[Any]) -> str:
    """The chain value of a row that follows a row (or preamble) chained as ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + canonical(values)).hexdigest()


class Chain:
    """A running chain: feed rows in file order, read ``value`` and ``rows``."""

    def __init__(self, preamble: bytes) -> None:
        self.value = genesis(preamble)
        self.rows = 0

    def add(self, values: Sequence[Any]) -> str:
        self.value = link(self.value, values)
        self.rows += 1
        return self.value
