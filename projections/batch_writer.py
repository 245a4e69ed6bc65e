"""A rebuild's writes, sent by a thread of their own while the next read model computes.

A rebuild (``projections.runner.rebuild``, PostgreSQL) used to wait for the server after
every model's writes: about a quarter of its time, with nothing else to do (issue 12).
Here each batch's writes (rows and positions of every model) go, in order, to a writer
thread with its own connection, inside ONE transaction per batch; the models' reads run
at once on the caller's connection. That is safe because, during a batch, a model reads
only its own tables, never a table it has already written in the same batch, and the
writer has committed the previous batch before the next one starts: what a read sees is
what the previous batches left, as with one connection. psycopg releases the GIL while
it waits for the server, so the server writes one model's rows while Python computes the
next model's.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.persistence.database import Cursor, PostgresDatabase
from adapters.persistence.sql import Backend

Write = Callable[[Cursor], object]


@dataclass
class _End:
    """The end of a batch's writes: commit them (or roll back), then tell the caller."""

    commit: bool
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class _Abort(Exception):
    """Roll back the batch's transaction (the caller failed before committing it)."""


class BatchWriter:
    """Runs the writes it is given in a thread, one transaction per batch; ``finish``
    commits (or rolls back) the batch and waits for it."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database
        self._items: queue.SimpleQueue[Write | _End | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="replay-writer", daemon=True)
        self._thread.start()

    def send(self, write: Write) -> None:
        self._items.put(write)

    def finish(self, *, commit: bool) -> None:
        """Commit (or roll back) what was sent since the last ``finish``, and wait for
        it; raises what the server refused, then nothing of the batch is committed."""
        end = _End(commit)
        self._items.put(end)
        end.done.wait()
        if end.error is not None:
            raise end.error

    def close(self) -> None:
        self._items.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while (item := self._items.get()) is not None:
            error: BaseException | None = None
            try:
                with self.database.transaction() as cursor:
                    # Private tables until the swap: see ``runner.apply_together``.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    while not isinstance(item, _End):
                        item(cursor)
                        item = self._next()
                    if not item.commit:
                        raise _Abort
            except _Abort:
                pass
            except BaseException as failure:  # surfaced to the caller by ``finish``
                error = failure
            while not isinstance(item, _End):  # the rest of a failed batch
                item = self._items.get()
                if item is None:  # closed mid-batch (no caller waits): stop
                    return
            item.error = error
            item.done.set()

    def _next(self) -> Write | _End:
        item = self._items.get()
        if item is None:  # ``close`` should only follow ``finish``: roll the batch back
            self._items.put(None)  # and stop, once that is done
            msg = "the batch writer was closed in the middle of a batch"
            raise RuntimeError(msg)
        return item


class DeferredCursor:
    """A cursor whose reads run now on ``reads`` and whose writes go to ``writer``.

    A statement is a read if it begins with SELECT; ``executemany`` and ``insert_many``
    always write. With ``reads`` None every statement is a write (e.g. a lock, which
    must be taken in the writer's transaction)."""

    backend: Backend = "postgres"

    def __init__(self, writer: BatchWriter, reads: Cursor | None = None) -> None:
        self._writer = writer
        self._reads = reads

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Cursor:
        if self._reads is not None and sql.lstrip()[:6].upper() == "SELECT":
            return self._reads.execute(sql, params)
        self._writer.send(lambda cursor: cursor.execute(sql, params))
        return self

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        self._writer.send(lambda cursor: cursor.executemany(sql, params))

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        self._writer.send(lambda cursor: cursor.insert_many(table, columns, rows))

    def fetchone(self) -> Mapping[str, Any] | None:
        raise TypeError("a deferred write returns no rows")

    def fetchall(self) -> list[Mapping[str, Any]]:
        raise TypeError("a deferred write returns no rows")

    @property
    def rowcount(self) -> int:
        raise TypeError("a deferred write has no row count yet")
