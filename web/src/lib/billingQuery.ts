import type { Api } from "./api.ts";
import { ApiError } from "./api.ts";
import type { OrganizerBilling } from "./types.ts";

/** The organizer's billing, or null when the ledger has no record of it yet (404). */
export async function billingOrNull(
  api: Api,
  organizerId: string,
  signal?: AbortSignal,
): Promise<OrganizerBilling | null> {
  try {
    return await api.billing(organizerId, signal);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return null;
    }
    throw error;
  }
}
