"""Keyset paging over a read-model table ordered by a two-column text key.

A read model names its list as a :class:`KeysetQuery` (projections/syncs.py,
projections/renewal_risks.py); the ops lists (app/services/ops/) page through it with opaque
cursors without writing SQL themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.persistence.database import Database

TextKey = tuple[str, str]


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


def keyset_rows(
    database: Database, query: KeysetQuery, *, after: TextKey | None, limit: int
) -> list[Mapping[str, Any]]:
    """Up to ``limit`` rows of the query after the key ``after``, in key order."""
    first, second = (f"t.{column}" for column in query.key)
    where, params = query.where, dict(query.params)
    if after is not None:
        # Row values compare lexicographically on both backends.
        where += f" AND ({first}, {second}) > (:after_first, :after_second)"
        params |= {"after_first": after[0], "after_second": after[1]}
    params["limit"] = limit
    sql = (
        f"SELECT {query.select} FROM {query.source} WHERE {where}"
        f" ORDER BY {first}, {second} LIMIT :limit"
    )
    with database.transaction() as cursor:
        return list(cursor.execute(sql, params).fetchall())
