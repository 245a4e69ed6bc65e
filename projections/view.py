"""Materialised views: read-model tables plus their tracking position, one transaction.

``ReadModelView`` is an eventsourcing ``TrackingRecorder``: the position of the last
event a read model applied is written in the same transaction as the rows it changed,
so each event is applied exactly once across crashes. One subclass per backend holds
what the dialects disagree on (DDL types, how a rebuilt table replaces a live one).

A view has a *suffix*: the live tables have none; a replay builds ``<table>__rebuild``
beside them, then swaps them in atomically.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking, TrackingRecorder

from adapters.persistence.database import Cursor, PostgresDatabase, SQLiteDatabase

REBUILD_SUFFIX = "__rebuild"
RETIRED_SUFFIX = "__retired"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text" | "int" | "bigint"
    primary_key: bool = False
    nullable: bool = True


@dataclass(frozen=True)
class TableSpec:
    """A read-model table, defined once for both backends."""

    name: str
    columns: tuple[Column, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class TableChecksum:
    table: str
    rows: int
    sha256: str


class ReadModelView(TrackingRecorder):
    """Tables and tracking of one read model (``projection``) under one suffix."""

    types: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        database: SQLiteDatabase | PostgresDatabase,
        projection: str,
        tables: Sequence[TableSpec],
        *,
        suffix: str = "",
    ) -> None:
        self.database = database
        self.projection = projection
        self.specs = {spec.name: spec for spec in tables}
        self.suffix = suffix

    @property
    def tracking_key(self) -> str:
        return self.projection + self.suffix

    def table(self, name: str) -> str:
        if name not in self.specs:
            msg = f"{self.projection} has no table {name!r}"
            raise KeyError(msg)
        return name + self.suffix

    # -- TrackingRecorder -----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.database.transaction() as cursor:
            yield cursor

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.transaction() as cursor:
            self.track(cursor, tracking.notification_id)

    def track(self, cursor: Cursor, notification_id: int) -> None:
        """Record the position inside the caller's transaction (with the rows)."""
        cursor.execute(
            "INSERT INTO read_model_tracking (projection, notification_id) VALUES (:p, :n)"
            " ON CONFLICT (projection) DO UPDATE SET notification_id = :n"
            " WHERE read_model_tracking.notification_id < :n",
            {"p": self.tracking_key, "n": notification_id},
        )

    def max_tracking_id(self, application_name: str = "") -> int | None:
        with self.transaction() as cursor:
            return self.position(cursor)

    def lock(self, cursor: Cursor) -> None:
        """Serialise writers of this view for the transaction (SQLite: BEGIN IMMEDIATE)."""

    def position(self, cursor: Cursor) -> int | None:
        row = cursor.execute(
            "SELECT notification_id FROM read_model_tracking WHERE projection = :p",
            {"p": self.tracking_key},
        ).fetchone()
        return None if row is None else int(row["notification_id"])

    # -- rows -----------------------------------------------------------------------

    def upsert(self, cursor: Cursor, spec: TableSpec, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace whole rows of one of this view's tables by primary key,
        inside the caller's transaction; for a key given twice the last row wins."""
        if not rows:
            return
        columns = spec.column_names
        key = spec.key
        unique = {tuple(map(row.get, key)): row for row in rows}
        self.write_rows(cursor, spec, [list(map(row.get, columns)) for row in unique.values()])

    def write_rows(self, cursor: Cursor, spec: TableSpec, rows: list[list[Any]]) -> None:
        """SQLite: one prepared statement per row (in-process, so no round trips)."""
        columns = spec.column_names
        cursor.executemany(
            f"INSERT INTO {self.table(spec.name)} ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + c for c in columns)})"
            f" ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {_updates(spec)}",
            [dict(zip(columns, row, strict=True)) for row in rows],
        )

    # -- schema ---------------------------------------------------------------------

    def create_tables(self, *, indexes: bool = True) -> None:
        """Create what is missing; a rebuild passes ``indexes=False`` and calls
        ``create_indexes`` once filled (one bulk build instead of upkeep per row)."""
        with self.transaction() as cursor:
            self._create(cursor, self.suffix, indexes=indexes)

    def create_indexes(self) -> None:
        with self.transaction() as cursor:
            for spec in self.specs.values():
                self._create_indexes(cursor, spec, self.suffix)

    def _create(self, cursor: Cursor, suffix: str, *, indexes: bool = True) -> None:
        for spec in self.specs.values():
            columns = ", ".join(
                f"{c.name} {self.types[c.kind]}{'' if c.nullable or c.primary_key else ' NOT NULL'}"
                for c in spec.columns
            )
            key = f", PRIMARY KEY ({', '.join(spec.key)})" if spec.key else ""
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {spec.name}{suffix} ({columns}{key})")
            self.add_missing_columns(cursor, spec, suffix)
            if indexes:
                self._create_indexes(cursor, spec, suffix)

    def _create_indexes(self, cursor: Cursor, spec: TableSpec, suffix: str) -> None:
        for index in spec.indexes:
            name = f"{spec.name}{suffix}_{'_'.join(index)}_idx"
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {spec.name}{suffix} ({', '.join(index)})"
            )

    def add_missing_columns(self, cursor: Cursor, spec: TableSpec, suffix: str) -> None:
        """A table made before a column was added to its spec gets it (nullable, so rows
        stored before read null until a replay refills them): ``ledger migrate`` upgrades."""
        raise NotImplementedError

    def drop_tables(self) -> None:
        """Forget this view entirely (tables and position)."""
        with self.transaction() as cursor:
            for spec in self.specs.values():
                cursor.execute(f"DROP TABLE IF EXISTS {spec.name}{self.suffix}")
            cursor.execute(
                "DELETE FROM read_model_tracking WHERE projection = :p", {"p": self.tracking_key}
            )

    def swap_into(self, cursor: Cursor, live: ReadModelView) -> None:
        """Make this (rebuilt) view's tables and position the live ones, inside the
        caller's transaction (which holds the live view's lock)."""
        position = self.position(cursor)
        for spec in self.specs.values():
            self.swap_table(cursor, spec, live.suffix)
        cursor.execute(
            "DELETE FROM read_model_tracking WHERE projection IN (:live, :rebuilt)",
            {"live": live.tracking_key, "rebuilt": self.tracking_key},
        )
        if position is not None:
            live.track(cursor, position)

    def swap_table(self, cursor: Cursor, spec: TableSpec, live_suffix: str) -> None:
        live, rebuilt = spec.name + live_suffix, spec.name + self.suffix
        cursor.execute(f"DROP TABLE IF EXISTS {spec.name}{RETIRED_SUFFIX}")
        cursor.execute(f"ALTER TABLE {live} RENAME TO {spec.name}{RETIRED_SUFFIX}")
        cursor.execute(f"ALTER TABLE {rebuilt} RENAME TO {live}")
        cursor.execute(f"DROP TABLE {spec.name}{RETIRED_SUFFIX}")
        self.rename_indexes(cursor, spec, live_suffix)

    def rename_indexes(self, cursor: Cursor, spec: TableSpec, live_suffix: str) -> None:
        """Index names carry the suffix; give the swapped-in table the live names."""

    # -- verification ---------------------------------------------------------------

    def checksums(self) -> list[TableChecksum]:
        """Row count and SHA-256 of each table's rows in key order, rendered canonically
        (same text on both backends), so two builds can be compared exactly. Streams."""
        results = []
        for spec in self.specs.values():
            digest = hashlib.sha256()
            count = 0
            order = ", ".join(spec.key or spec.column_names)
            sql = (
                f"SELECT {', '.join(spec.column_names)} FROM {self.table(spec.name)}"
                f" ORDER BY {order}"
            )
            with self.database.stream(sql) as rows:
                for row in rows:
                    digest.update(_canonical(row, spec.column_names))
                    count += 1
            results.append(TableChecksum(spec.name, count, digest.hexdigest()))
        return results


_PG_TYPES = {"text": "text", "int": "integer", "bigint": "bigint"}


def write_rows_unnest(cursor: Cursor, table: str, spec: TableSpec, rows: list[list[Any]]) -> None:
    """PostgreSQL: ONE statement per table and batch: the columns go as arrays through
    ``unnest``, instead of one pipelined INSERT per row (a round trip each on the server
    side; the rebuild's main cost before). Its text is the same whatever the number of
    rows, so psycopg parses it once. Keys must be unique (``ReadModelView.upsert``)."""
    arrays: dict[str, list[Any]] = {}
    for index, column in enumerate(spec.columns):
        values = [row[index] for row in rows]
        if column.kind != "text":  # a bool stored as 0/1: integer arrays only
            values = [int(v) if isinstance(v, bool) else v for v in values]
        arrays[f"c{index}"] = values
    cursor.execute(_unnest_sql(table, spec), arrays)


@functools.lru_cache(maxsize=256)
def _unnest_sql(table: str, spec: TableSpec) -> str:
    # Binary parameters: psycopg quotes each element of a text-format array (a regex
    # per value), which cost more than the statement itself.
    casts = ", ".join(f":c{i}!b::{_PG_TYPES[c.kind]}[]" for i, c in enumerate(spec.columns))
    return (
        f"INSERT INTO {table} ({', '.join(spec.column_names)})"
        f" SELECT * FROM unnest({casts})"
        f" ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {_updates(spec)}"
    )


def _updates(spec: TableSpec) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in spec.column_names if c not in spec.key)


def _canonical(row: Any, columns: Sequence[str]) -> bytes:
    parts = []
    for name in columns:
        value = row[name]
        parts.append(
            "\\N" if value is None else str(int(value) if isinstance(value, bool) else value)
        )
    return ("\x1f".join(parts) + "\x1e").encode()


class SQLiteReadModelView(ReadModelView):
    types: ClassVar[dict[str, str]] = {"text": "TEXT", "int": "INTEGER", "bigint": "INTEGER"}

    def add_missing_columns(self, cursor: Cursor, spec: TableSpec, suffix: str) -> None:
        rows = cursor.execute(f"PRAGMA table_info({spec.name}{suffix})").fetchall()
        present = {str(row["name"]) for row in rows}
        for column in spec.columns:
            if column.name not in present and column.nullable and not column.primary_key:
                cursor.execute(
                    f"ALTER TABLE {spec.name}{suffix}"
                    f" ADD COLUMN {column.name} {self.types[column.kind]}"
                )

    def rename_indexes(self, cursor: Cursor, spec: TableSpec, live_suffix: str) -> None:
        # SQLite cannot rename an index: recreate the live-named ones, drop the others.
        for index in spec.indexes:
            columns = "_".join(index)
            cursor.execute(f"DROP INDEX IF EXISTS {spec.name}{self.suffix}_{columns}_idx")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {spec.name}{live_suffix}_{columns}_idx"
                f" ON {spec.name}{live_suffix} ({', '.join(index)})"
            )


class PostgresReadModelView(ReadModelView):
    types: ClassVar[dict[str, str]] = _PG_TYPES

    def add_missing_columns(self, cursor: Cursor, spec: TableSpec, suffix: str) -> None:
        for column in spec.columns:
            if column.nullable and not column.primary_key:
                cursor.execute(
                    f"ALTER TABLE {spec.name}{suffix}"
                    f" ADD COLUMN IF NOT EXISTS {column.name} {self.types[column.kind]}"
                )

    def write_rows(self, cursor: Cursor, spec: TableSpec, rows: list[list[Any]]) -> None:
        write_rows_unnest(cursor, self.table(spec.name), spec, rows)

    def lock(self, cursor: Cursor) -> None:
        # Two runners must never both apply the batch after the same position.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(:p))", {"p": self.tracking_key})

    def rename_indexes(self, cursor: Cursor, spec: TableSpec, live_suffix: str) -> None:
        for index in spec.indexes:
            columns = "_".join(index)
            cursor.execute(
                f"ALTER INDEX IF EXISTS {spec.name}{self.suffix}_{columns}_idx"
                f" RENAME TO {spec.name}{live_suffix}_{columns}_idx"
            )


def view_for(
    database: SQLiteDatabase | PostgresDatabase,
    projection: str,
    tables: Sequence[TableSpec],
    *,
    suffix: str = "",
) -> ReadModelView:
    """The view class of ``database``'s backend."""
    cls = SQLiteReadModelView if isinstance(database, SQLiteDatabase) else PostgresReadModelView
    return cls(database, projection, tables, suffix=suffix)
