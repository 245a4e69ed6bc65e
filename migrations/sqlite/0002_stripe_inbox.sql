-- Verified Stripe deliveries, stored before we answer 2xx (inbox first), and the
-- Stripe ids (customer, subscription) linked to each organizer, for routing.
CREATE TABLE IF NOT EXISTS stripe_inbox (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    api_version TEXT,
    created INTEGER NOT NULL,
    livemode INTEGER NOT NULL,
    account TEXT,
    payload BLOB NOT NULL,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processed', 'ignored', 'parked', 'failed')),
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    processed_at TEXT,
    organizer_id TEXT,
    customer_id TEXT,
    subscription_id TEXT
);

CREATE INDEX IF NOT EXISTS stripe_inbox_status_idx ON stripe_inbox (status, created, event_id);
CREATE INDEX IF NOT EXISTS stripe_inbox_customer_idx ON stripe_inbox (customer_id);
CREATE INDEX IF NOT EXISTS stripe_inbox_subscription_idx ON stripe_inbox (subscription_id);

CREATE TABLE IF NOT EXISTS stripe_links (
    stripe_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'subscription')),
    organizer_id TEXT NOT NULL,
    source TEXT NOT NULL,
    linked_at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS stripe_links_organizer_idx ON stripe_links (organizer_id);
