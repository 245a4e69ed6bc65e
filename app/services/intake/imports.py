"""Importing a JSON-lines file of platform group changes, resumably (the use case behind
``ledger import-group-changes``).

Same rules as ``POST /internal/group-changes`` (:mod:`app.services.intake.group_changes`), one
change per line. The file is read in batches; after each batch is saved, the byte
offset and line number reached are recorded in ``group_change_imports`` (``ImportLog``),
so a re-run after a crash skips what was done. A crash between a batch's save and its
checkpoint only means that batch is sent again, and its change ids come back
``duplicate``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson

from adapters.persistence.database import Database
from app.services.intake.group_changes import (
    ChangeLedger,
    Checked,
    ItemResult,
    Outcome,
    apply_checked,
    rejected,
    summarize,
    validate_change,
)

IDENTITY_PREFIX_BYTES = 64 * 1024
MAX_REJECTED_SHOWN = 20

_SELECT = "SELECT * FROM group_change_imports WHERE file_key = :file_key"
_DELETE = "DELETE FROM group_change_imports WHERE file_key = :file_key"
_UPSERT = """
INSERT INTO group_change_imports
    (file_key, path, byte_offset, line_number, applied, duplicate, stale, rejected, updated_at)
VALUES
    (:file_key, :path, :byte_offset, :line_number, :applied, :duplicate, :stale, :rejected,
     :updated_at)
ON CONFLICT (file_key) DO UPDATE SET
    path = excluded.path, byte_offset = excluded.byte_offset,
    line_number = excluded.line_number, applied = excluded.applied,
    duplicate = excluded.duplicate, stale = excluded.stale, rejected = excluded.rejected,
    updated_at = excluded.updated_at
"""


@dataclass
class Checkpoint:
    """How far a file has been imported, and the outcomes so far (all runs)."""

    byte_offset: int = 0
    line_number: int = 0
    counts: dict[str, int] = field(default_factory=lambda: summarize([]))


def file_key(handle: IO[bytes], path: Path) -> str:
    """Identity of an import: its absolute path and first 64 KiB.

    Appending to a large file keeps its identity (the import continues where it
    stopped); replacing its beginning, or moving it, starts a new import.
    """
    digest = hashlib.sha256(str(path.resolve()).encode() + b"\0")
    digest.update(handle.read(IDENTITY_PREFIX_BYTES))
    handle.seek(0)
    return digest.hexdigest()


class ImportLog:
    """The ``group_change_imports`` row of one file."""

    def __init__(self, database: Database, key: str, path: Path) -> None:
        self.database, self.key, self.path = database, key, str(path.resolve())

    def load(self) -> Checkpoint | None:
        with self.database.transaction() as cursor:
            row = cursor.execute(_SELECT, {"file_key": self.key}).fetchone()
        if row is None:
            return None
        counts = {o.value: int(row[o.value]) for o in Outcome}
        return Checkpoint(int(row["byte_offset"]), int(row["line_number"]), counts)

    def save(self, checkpoint: Checkpoint) -> None:
        params = {
            "file_key": self.key,
            "path": self.path,
            "byte_offset": checkpoint.byte_offset,
            "line_number": checkpoint.line_number,
            "updated_at": datetime.now(UTC).isoformat(),
            **checkpoint.counts,
        }
        with self.database.transaction() as cursor:
            cursor.execute(_UPSERT, params)

    def forget(self) -> None:
        with self.database.transaction() as cursor:
            cursor.execute(_DELETE, {"file_key": self.key})


def read_batches(
    handle: IO[bytes], start: Checkpoint, size: int
) -> Iterator[tuple[list[tuple[int, bytes]], int, int]]:
    """``(numbered non-blank lines, offset after, last line number)`` per batch."""
    handle.seek(start.byte_offset)
    offset, number, lines = start.byte_offset, start.line_number, []
    checkpointed = number
    for line in handle:
        offset += len(line)
        number += 1
        if line.strip():
            lines.append((number, line))
        if len(lines) >= size:
            yield lines, offset, number
            lines, checkpointed = [], number
    if number > checkpointed:  # the last, short batch (or trailing blank lines)
        yield lines, offset, number


def check_line(number: int, line: bytes, *, now: datetime) -> Checked:
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return rejected(number, None, f"the line is not JSON: {error}")
    return validate_change(number, raw, now=now)


@dataclass
class ImportRun:
    """One run over one file: applies batches, checkpoints, keeps rejected samples."""

    ledger: ChangeLedger
    log: ImportLog
    checkpoint: Checkpoint
    rejected_samples: list[ItemResult] = field(default_factory=list)
    rejected_this_run: int = 0

    def apply(self, lines: list[tuple[int, bytes]], offset: int, number: int) -> None:
        now = self.ledger.clock()
        results = apply_checked(self.ledger, [check_line(n, line, now=now) for n, line in lines])
        for result in results:
            self.checkpoint.counts[result.outcome.value] += 1
            if result.outcome is Outcome.REJECTED:
                self.rejected_this_run += 1
                if len(self.rejected_samples) < MAX_REJECTED_SHOWN:
                    self.rejected_samples.append(result)
        self.checkpoint.byte_offset, self.checkpoint.line_number = offset, number
        self.log.save(self.checkpoint)

    def batches(self, handle: IO[bytes], start: Checkpoint, size: int) -> Iterator[int]:
        """Apply the file from ``start``, ``size`` lines a batch; yields the byte offset
        reached after each batch (checkpointed)."""
        for lines, offset, number in read_batches(handle, start, size):
            self.apply(lines, offset, number)
            yield offset


def resume_point(
    handle: IO[bytes], path: Path, recorded: Checkpoint | None
) -> tuple[Checkpoint, str | None]:
    """Where to start, and (when a checkpoint was recorded) a line saying why there."""
    if recorded is None or recorded.line_number == 0:
        return Checkpoint(), None
    if not _is_line_boundary(handle, recorded.byte_offset):
        note = (
            f"{path} changed since the last run (line {recorded.line_number} no longer "
            "ends at the recorded offset); starting at line 1"
        )
        return Checkpoint(), note
    note = (
        f"resuming {path} after line {recorded.line_number} "
        f"(byte {recorded.byte_offset}) recorded by an earlier run; --restart to start over"
    )
    return recorded, note


def _is_line_boundary(handle: IO[bytes], offset: int) -> bool:
    size = os.fstat(handle.fileno()).st_size
    if offset > size:
        return False
    if offset == size:
        return True
    handle.seek(offset - 1)
    return handle.read(1) == b"\n"


def start_import(
    database: Database, ledger: ChangeLedger, handle: IO[bytes], path: Path, *, restart: bool
) -> tuple[ImportRun, Checkpoint, str | None]:
    """The run over ``handle`` (from its recorded checkpoint unless ``restart``), where it
    starts, and the note saying why there (None: a first run)."""
    log = ImportLog(database, file_key(handle, path), path)
    if restart:
        log.forget()
    start, note = resume_point(handle, path, log.load())
    run = ImportRun(
        ledger, log, Checkpoint(start.byte_offset, start.line_number, dict(start.counts))
    )
    return run, start, note
