/**
 * The organizer API's JSON, mirrored from app/api/schemas.py (the contract).
 * Money is integer minor units with an ISO 4217 currency; instants are ISO 8601 UTC strings.
 */

export type EnrollmentStatus = "not_enrolled" | "pending" | "active" | "past_due" | "canceled";

export interface Money {
  amount: number;
  currency: string;
}

export interface ActiveGroups {
  count: number;
  ids: string[];
}

export interface Subscription {
  subscription_id: string;
  status: string;
  billed_quantity: number;
  current_period_start: string;
  current_period_end: string;
}

export interface Price {
  price_id: string;
  unit_amount: number;
  currency: string;
  interval: string;
}

export interface ChargeEstimate {
  quantity: number;
  unit_amount: number;
  subtotal: number;
  /** null when Stripe computes the tax at invoicing. */
  tax: number | null;
  total: number;
  currency: string;
  source: "price" | "invoice_preview";
}

export interface LastSync {
  status: string;
  quantity: number | null;
  at: string | null;
  error: string | null;
}

export interface OrganizerBilling {
  organizer_id: string;
  enrollment_status: EnrollmentStatus;
  subscription: Subscription | null;
  active_groups: ActiveGroups;
  billable_quantity: number;
  billed_quantity: number | null;
  next_renewal_at: string | null;
  price: Price | null;
  estimated_next_charge: ChargeEstimate | null;
  drift: boolean;
  last_sync: LastSync | null;
}

export interface TimelineEntry {
  position: number;
  seq: number;
  at: string;
  recorded_at: string;
  kind: string;
  title: string;
  description: string;
  quantity: number | null;
  amount: Money | null;
  subtotal: Money | null;
  tax: Money | null;
  period_start: string | null;
  period_end: string | null;
}

export interface Timeline {
  entries: TimelineEntry[];
  next_cursor: string | null;
}

export interface Invoice {
  invoice_id: string;
  status: string;
  billing_reason: string;
  period_start: string;
  period_end: string;
  quantity: number;
  subtotal: number;
  tax: number;
  total: number;
  currency: string;
}

export interface Invoices {
  invoices: Invoice[];
  next_cursor: string | null;
}

export interface EnrollmentRequest {
  success_url: string;
  cancel_url: string;
}

export interface CheckoutLink {
  url: string;
  session_id: string;
  quantity: number;
  reused: boolean;
}

export interface PortalLink {
  url: string;
}

/** RFC 9457 problem details, as every API error is answered. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string | null;
}

/** GET /config.json (served by the backend). */
export interface AppConfig {
  signInUrl: string;
  apiBase: string;
}
