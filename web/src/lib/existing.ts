/**
 * A subscription made before the ledger (issue 13): what the enroll page shows and the
 * confirmation that moves it to the per-group price at its next renewal (no Checkout).
 */
import type { Api } from "./api.ts";
import { ApiError } from "./api.ts";
import type { components } from "./api.gen.ts";
import { billingOrNull } from "./billingQuery.ts";
import { nextPollStep, POLL_INTERVAL_MS } from "./enrollment.ts";

export type ExistingSubscription = components["schemas"]["ExistingSubscription"];
export type ExistingPrice = components["schemas"]["ExistingPrice"];

function path(organizerId: string): string {
  return `/api/organizers/${encodeURIComponent(organizerId)}/existing-subscription`;
}

/** What was found, or null: nothing to move (404) or billed per group already (409). */
export async function existingOrNull(
  api: Api,
  organizerId: string,
  signal?: AbortSignal,
): Promise<ExistingSubscription | null> {
  try {
    return await api.get<ExistingSubscription>(path(organizerId), signal);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 409)) {
      return null;
    }
    throw error;
  }
}

/** Confirm the move; "enrolled" when the API says it is billed per group already (409). */
export async function confirmMove(
  api: Api,
  organizerId: string,
): Promise<ExistingSubscription | "enrolled"> {
  try {
    return await api.post<ExistingSubscription>(`${path(organizerId)}/confirm`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && error.title === "Already enrolled") {
      return "enrolled";
    }
    throw error;
  }
}

/** Whether the enroll page offers the move rather than Checkout. */
export function offersMove(
  existing: ExistingSubscription | null,
): existing is ExistingSubscription {
  return existing !== null && !existing.moved;
}

/** The first per-group charge for today's groups (null: the per-group price is tiered). */
export function chargeAfterMove(existing: ExistingSubscription): number | null {
  const unit = existing.moves_to.unit_amount;
  return unit === null ? null : unit * existing.groups_now;
}

/**
 * After the move, until the billing page can show the subscription (the ledger's read
 * models follow its log a moment later), polling like the Checkout return page; gives up
 * after the same minute. Resolves either way: the billing page says what it knows.
 */
export async function untilBillingShowsIt(
  api: Api,
  organizerId: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((done) => setTimeout(done, ms)),
  now: () => number = () => Date.now(),
): Promise<void> {
  const started = now();
  for (;;) {
    const billing = await billingOrNull(api, organizerId);
    if (nextPollStep(billing, now() - started) !== "wait") {
      return;
    }
    await sleep(POLL_INTERVAL_MS);
  }
}
