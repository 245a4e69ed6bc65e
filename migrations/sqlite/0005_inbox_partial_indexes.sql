-- Customer and subscription ids are only set once a delivery is translated (parked
-- rows wait on them): index only those rows, so an insert updates fewer indexes.
DROP INDEX IF EXISTS stripe_inbox_customer_idx;
DROP INDEX IF EXISTS stripe_inbox_subscription_idx;
CREATE INDEX IF NOT EXISTS stripe_inbox_customer_set_idx
    ON stripe_inbox (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS stripe_inbox_subscription_set_idx
    ON stripe_inbox (subscription_id) WHERE subscription_id IS NOT NULL;
