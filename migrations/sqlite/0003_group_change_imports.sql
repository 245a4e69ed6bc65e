-- Progress of `ledger import-group-changes`, one row per imported file, written after
-- each committed batch so that a re-run resumes where the last one stopped.
-- file_key: sha256 of the file's absolute path and its first 64 KiB (docs/group-changes.md).
CREATE TABLE IF NOT EXISTS group_change_imports (
    file_key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    byte_offset INTEGER NOT NULL CHECK (byte_offset >= 0),
    line_number INTEGER NOT NULL CHECK (line_number >= 0),
    applied INTEGER NOT NULL DEFAULT 0,
    duplicate INTEGER NOT NULL DEFAULT 0,
    stale INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
