"""The rebuild's writer thread (projections/batch_writer.py): a batch commits whole or
not at all, and reads never wait behind its writes. PostgreSQL only (SQLite rebuilds
on one connection)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from adapters.persistence.database import PostgresDatabase, parse_database_url
from projections.batch_writer import BatchWriter, DeferredCursor
from tests.support.postgres import fresh_schema


@pytest.fixture
def database(postgres_url: str) -> Iterator[PostgresDatabase]:
    with fresh_schema(postgres_url) as url:
        database = PostgresDatabase(parse_database_url(url))
        with database.transaction() as cursor:
            cursor.execute("CREATE TABLE t (k int PRIMARY KEY)")
        try:
            yield database
        finally:
            database.close()


@pytest.fixture
def writer(database: PostgresDatabase) -> Iterator[BatchWriter]:
    writer = BatchWriter(database)
    try:
        yield writer
    finally:
        writer.close()


def keys(database: PostgresDatabase) -> list[int]:
    with database.transaction() as cursor:
        return [int(row["k"]) for row in cursor.execute("SELECT k FROM t ORDER BY k").fetchall()]


class TestBatchWriter:
    def test_a_finished_batch_is_committed_and_a_rolled_back_one_is_not(
        self, database: PostgresDatabase, writer: BatchWriter
    ) -> None:
        deferred = DeferredCursor(writer)
        deferred.execute("INSERT INTO t VALUES (:k)", {"k": 1})
        writer.finish(commit=True)
        deferred.execute("INSERT INTO t VALUES (:k)", {"k": 2})
        writer.finish(commit=False)
        assert keys(database) == [1]

    def test_a_refused_write_fails_the_whole_batch_and_the_next_batch_still_commits(
        self, database: PostgresDatabase, writer: BatchWriter
    ) -> None:
        deferred = DeferredCursor(writer)
        deferred.execute("INSERT INTO t VALUES (:k)", {"k": 1})
        deferred.execute("INSERT INTO t VALUES (:k)", {"k": 1})  # duplicate key
        deferred.executemany("INSERT INTO t VALUES (:k)", [{"k": 3}])
        with pytest.raises(psycopg.errors.UniqueViolation):
            writer.finish(commit=True)
        assert keys(database) == []
        deferred.insert_many("t", ["k"], [[4], [5]])
        writer.finish(commit=True)
        assert keys(database) == [4, 5]

    def test_closing_in_the_middle_of_a_batch_commits_none_of_it(
        self, database: PostgresDatabase
    ) -> None:
        writer = BatchWriter(database)
        DeferredCursor(writer).execute("INSERT INTO t VALUES (:k)", {"k": 1})
        writer.close()
        assert keys(database) == []


class TestDeferredCursor:
    def test_reads_run_at_once_and_see_only_what_was_committed(
        self, database: PostgresDatabase, writer: BatchWriter
    ) -> None:
        with database.transaction() as reads:
            cursor = DeferredCursor(writer, reads)
            cursor.execute("INSERT INTO t VALUES (:k)", {"k": 7})
            assert cursor.execute("SELECT count(*) AS n FROM t").fetchall() == [{"n": 0}]
            writer.finish(commit=True)
            assert cursor.execute("SELECT count(*) AS n FROM t").fetchall() == [{"n": 1}]

    def test_a_deferred_write_has_no_rows_to_fetch(self, writer: BatchWriter) -> None:
        cursor = DeferredCursor(writer)
        with pytest.raises(TypeError):
            cursor.execute("INSERT INTO t VALUES (:k)", {"k": 1}).fetchall()
        writer.finish(commit=False)
