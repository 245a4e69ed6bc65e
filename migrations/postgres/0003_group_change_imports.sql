-- Progress of `ledger import-group-changes`, one row per imported file, written after
-- each committed batch so that a re-run resumes where the last one stopped.
-- file_key: sha256 of the file's absolute path and its first 64 KiB (docs/group-changes.md).
CREATE TABLE IF NOT EXISTS group_change_imports (
    file_key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    byte_offset bigint NOT NULL CHECK (byte_offset >= 0),
    line_number bigint NOT NULL CHECK (line_number >= 0),
    applied bigint NOT NULL DEFAULT 0,
    duplicate bigint NOT NULL DEFAULT 0,
    stale bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
