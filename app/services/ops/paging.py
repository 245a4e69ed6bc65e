"""Keyset paging over a read-model list (projections/paging.py) with opaque cursors.

The audit trail pages by its log position (``app.services.audit.entries``); the ops lists page by
an immutable ``(time, id)`` pair instead. Both hand out opaque cursors and answer the
same ``Page`` shape, so a client pages every list of this API with one loop.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from adapters.persistence.database import Database
from app.services.audit.entries import MAX_LIMIT, InvalidCursorError, InvalidFilterError, Page
from projections.paging import KeysetQuery, TextKey, keyset_rows

__all__ = [
    "KeysetQuery",
    "TextKey",
    "decode_cursor",
    "encode_cursor",
    "json_row",
    "read_all",
    "read_page",
]

_MAX_KEY_PART = 200


def encode_cursor(key: TextKey) -> str:
    """Opaque to clients: base64url of the JSON pair, unpadded."""
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str) -> TextKey:
    """The key a cursor stands for, or :class:`InvalidCursorError`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursorError("not a cursor returned by this API") from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(
            isinstance(v, str) and 0 < len(v) <= _MAX_KEY_PART and v.isprintable() for v in value
        )
    ):
        raise InvalidCursorError("not a cursor returned by this API")
    key: TextKey = (value[0], value[1])
    if encode_cursor(key) != cursor:  # one spelling per key: only what we hand out
        raise InvalidCursorError("not a cursor returned by this API")
    return key


def read_page(
    database: Database,
    query: KeysetQuery,
    *,
    after: TextKey | None,
    limit: int,
    entry: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> Page:
    """Up to ``limit`` rows after ``after`` as entries; ``next_cursor`` is None at the end."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidFilterError("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    # one more than asked says whether another page exists
    rows = keyset_rows(database, query, after=after, limit=limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = (
        encode_cursor((str(page[-1][query.key[0]]), str(page[-1][query.key[1]])))
        if more and page
        else None
    )
    return Page([entry(row) for row in page], next_cursor)


def read_all(
    database: Database,
    query: KeysetQuery,
    *,
    entry: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Every row, page by page (for the CLI, which prints whole lists)."""
    entries: list[dict[str, Any]] = []
    after: TextKey | None = None
    while True:
        page = read_page(database, query, after=after, limit=MAX_LIMIT, entry=entry)
        entries.extend(page.entries)
        if page.next_cursor is None:
            return entries
        after = decode_cursor(page.next_cursor)


def json_row(
    row: Mapping[str, Any], fields: tuple[str, ...], integers: frozenset[str]
) -> dict[str, Any]:
    """The named columns of a row as JSON-ready values (integer columns as ints)."""
    values = {name: row[name] for name in fields}
    for name in integers:
        if values[name] is not None:
            values[name] = int(values[name])
    return values
