/** When the return page stops waiting for Stripe's webhook to reach the ledger. */
import type { OrganizerBilling } from "./types.ts";

export const POLL_INTERVAL_MS = 1500;
export const POLL_TIMEOUT_MS = 60_000;

/** Enrolled means Stripe confirmed a subscription (a failed first payment still counts). */
export function isEnrolled(billing: OrganizerBilling): boolean {
  return billing.enrollment_status === "active" || billing.enrollment_status === "past_due";
}

export type PollStep = "confirmed" | "wait" | "timeout";

/** What the return page does after an answer (or none yet) at `elapsedMs` since it began. */
export function nextPollStep(billing: OrganizerBilling | null, elapsedMs: number): PollStep {
  if (billing !== null && isEnrolled(billing)) {
    return "confirmed";
  }
  return elapsedMs >= POLL_TIMEOUT_MS ? "timeout" : "wait";
}

/** Where "/" sends an organizer: no subscription yet → enrollment, else the billing page. */
export function homeRoute(billing: OrganizerBilling | null): "/enroll" | "/billing" {
  if (billing === null) {
    return "/enroll";
  }
  return billing.subscription !== null || isEnrolled(billing) ? "/billing" : "/enroll";
}
