-- Position of each read model in the notification log, written in the same
-- transaction as its rows. Read-model tables themselves are defined once, in
-- projections/ (they are rebuilt from the log by `ledger replay`), and created by
-- `ledger migrate` after these files.
CREATE TABLE IF NOT EXISTS read_model_tracking (
    projection TEXT PRIMARY KEY,
    notification_id INTEGER NOT NULL
);
