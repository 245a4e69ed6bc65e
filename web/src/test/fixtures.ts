/** Test data shaped like the API's answers (app/services/organizers/models.py). */
import type { OrganizerBilling, TimelineEntry } from "../lib/types.ts";

export function entry(overrides: Partial<TimelineEntry> = {}): TimelineEntry {
  return {
    position: 10,
    seq: 0,
    at: "2025-05-03T09:30:00Z",
    recorded_at: "2025-05-03T09:30:01Z",
    kind: "group_deactivated",
    title: "Group berlin-hikers closed",
    description: "7 groups billable from the next renewal.",
    quantity: 7,
    amount: null,
    subtotal: null,
    tax: null,
    period_start: null,
    period_end: null,
    group_id: null,
    group_name: null,
    invoice_id: null,
    ...overrides,
  };
}

/** The one timeline entry of a paid renewal invoice (June 2025, €35.00 + €6.65 tax). */
export function paidInvoice(overrides: Partial<TimelineEntry> = {}): TimelineEntry {
  return entry({
    kind: "invoice_recorded",
    title: "Payment received",
    description: "7 groups billed for the period.",
    at: "2025-06-01T00:05:00Z",
    amount: { amount: 4165, currency: "eur" },
    subtotal: { amount: 3500, currency: "eur" },
    tax: { amount: 665, currency: "eur" },
    period_start: "2025-06-01T00:00:00Z",
    period_end: "2025-07-01T00:00:00Z",
    ...overrides,
  });
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
      discount: 0,
      tax: 0,
      total: 3500,
      currency: "eur",
      source: "price",
    },
    drift: false,
    last_sync: null,
    duplicate_subscriptions: [],
    estimate_absent_reason: null,
    tax_ids: [],
    ...overrides,
  };
}
