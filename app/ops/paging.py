"""Keyset paging over a read-model table ordered by a two-column text key.

The audit trail pages by its log position (``app.audit.entries``); the ops lists page by
an immutable ``(time, id)`` pair instead. Both hand out opaque cursors and answer the
same ``Page`` shape, so a client pages every list of this API with one loop.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.persistence.database import Database
from app.audit.entries import MAX_LIMIT, InvalidCursorError, InvalidFilterError, Page

TextKey = tuple[str, str]
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


@dataclass(frozen=True)
class KeysetQuery:
    """``SELECT {select} FROM {source} WHERE {where}``, ordered by ``t.<key>``.

    ``source`` names the paged table ``t``; ``key`` are two immutable columns of ``t``
    that identify a row (the second unique), so rows appended or changed while a client
    pages never make it see one row twice.
    """

    select: str
    source: str
    key: TextKey
    where: str = "1 = 1"
    params: Mapping[str, Any] = field(default_factory=dict)


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
    first, second = (f"t.{column}" for column in query.key)
    where, params = query.where, dict(query.params)
    if after is not None:
        # Row values compare lexicographically on both backends.
        where += f" AND ({first}, {second}) > (:after_first, :after_second)"
        params |= {"after_first": after[0], "after_second": after[1]}
    params["limit"] = limit + 1  # one more than asked says whether another page exists
    sql = (
        f"SELECT {query.select} FROM {query.source} WHERE {where}"
        f" ORDER BY {first}, {second} LIMIT :limit"
    )
    with database.transaction() as cursor:
        rows = cursor.execute(sql, params).fetchall()
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
