import type { ExistingSubscription } from "../lib/existing.ts";

/** An existing subscription as the API answers it (overrides per test). */
export function existing(overrides: Partial<ExistingSubscription> = {}): ExistingSubscription {
  return {
    subscription_id: "sub_legacy",
    status: "active",
    found_by: "metadata",
    price: { price_id: "price_old", unit_amount: 4900, currency: "eur", interval: "month" },
    quantity: 1,
    current_period_end: "2026-02-01T00:00:00Z",
    moves_to: { price_id: "price_group", unit_amount: 500, currency: "eur", interval: "month" },
    moves_at: "2026-02-01T00:00:00Z",
    groups_now: 3,
    moved: false,
    ...overrides,
  };
}
