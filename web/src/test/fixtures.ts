/** Test data shaped like the API's answers (app/api/schemas.py). */
import type { OrganizerBilling, TimelineEntry } from "../lib/types.ts";

export function entry(overrides: Partial<TimelineEntry> = {}): TimelineEntry {
  return {
    position: 10,
    seq: 0,
    at: "2025-05-03T09:30:00Z",
    recorded_at: "2025-05-03T09:30:01Z",
    kind: "group_deactivated",
    title: "Group berlin-hikers closed",
    description: "On 3 May 2025: 7 groups billable from the next renewal.",
    quantity: 7,
    amount: null,
    ...overrides,
  };
}

export function billing(overrides: Partial<OrganizerBilling> = {}): OrganizerBilling {
  return {
    organizer_id: "org-1",
    enrollment_status: "active",
    subscription: {
      subscription_id: "sub_1",
      status: "active",
      billed_quantity: 7,
      current_period_start: "2025-05-01T00:00:00Z",
      current_period_end: "2025-06-01T00:00:00Z",
    },
    active_groups: { count: 7, ids: ["g1", "g2", "g3", "g4", "g5", "g6", "g7"] },
    billable_quantity: 7,
    billed_quantity: 7,
    next_renewal_at: "2025-06-01T00:00:00Z",
    price: { price_id: "price_1", unit_amount: 500, currency: "eur", interval: "month" },
    estimated_next_charge: {
      quantity: 7,
      unit_amount: 500,
      subtotal: 3500,
      tax: 0,
      total: 3500,
      currency: "eur",
      source: "price",
    },
    drift: false,
    last_sync: null,
    ...overrides,
  };
}
