/**
 * The staff routes the staff area reads (finance, ops): every list is keyset-paged, and
 * `cursor` is the previous page's `next_cursor` (docs/operations.md, /openapi.json).
 */
import type { Api } from "../lib/api.ts";
import type { Page } from "../lib/usePages.ts";
import type {
  Correction,
  DraftMismatch,
  DuplicateSubscription,
  OrganizerHit,
  OrganizerState,
  Renewal,
  Renewals,
  RenewalAtRisk,
  RetryAccepted,
  SyncFailure,
} from "./types.ts";

export const PAGE_SIZE = 20;
/** "Due soon": renewals whose period ends within this many days. */
export const DUE_WITHIN_DAYS = 14;
const DAY_MS = 86_400_000;

function query(params: Record<string, string | null | undefined>, cursor: string | null): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value) {
      search.set(name, value);
    }
  }
  if (cursor) {
    search.set("cursor", cursor);
  }
  search.set("limit", String(PAGE_SIZE));
  return search.toString();
}

type Entries<T> = { entries: T[]; next_cursor: string | null };

async function entries<T>(api: Api, path: string, signal: AbortSignal): Promise<Page<T>> {
  const page = await api.get<Entries<T>>(path, signal);
  return { items: page.entries, next_cursor: page.next_cursor };
}

/** Renewals whose period ends before `nowMs` + DUE_WITHIN_DAYS, soonest first. */
export async function dueRenewals(
  api: Api,
  nowMs: number,
  cursor: string | null,
  signal: AbortSignal,
): Promise<Page<Renewal>> {
  const dueBefore = new Date(nowMs + DUE_WITHIN_DAYS * DAY_MS).toISOString();
  const page = await api.get<Renewals>(
    `/api/renewals?${query({ due_before: dueBefore }, cursor)}`,
    signal,
  );
  return { items: page.renewals, next_cursor: page.next_cursor };
}

export function renewalsAtRisk(api: Api, cursor: string | null, signal: AbortSignal) {
  return entries<RenewalAtRisk>(api, `/api/ops/renewals-at-risk?${query({}, cursor)}`, signal);
}

/** Failed syncs, and those the sender still retries (so a retry stays in view). */
export function syncFailures(api: Api, cursor: string | null, signal: AbortSignal) {
  return entries<SyncFailure>(
    api,
    `/api/ops/sync-failures?${query({ include_retrying: "true" }, cursor)}`,
    signal,
  );
}

export function retrySync(api: Api, syncId: string): Promise<RetryAccepted> {
  return api.post<RetryAccepted>(`/api/ops/sync-failures/${encodeURIComponent(syncId)}/retry`);
}

export function draftMismatches(api: Api, cursor: string | null, signal: AbortSignal) {
  return entries<DraftMismatch>(api, `/api/ops/draft-mismatches?${query({}, cursor)}`, signal);
}

export function corrections(api: Api, cursor: string | null, signal: AbortSignal) {
  return entries<Correction>(api, `/api/staff/corrections?${query({}, cursor)}`, signal);
}

export function searchOrganizers(
  api: Api,
  text: string,
  cursor: string | null,
  signal: AbortSignal,
) {
  return entries<OrganizerHit>(api, `/api/staff/organizers?${query({ q: text }, cursor)}`, signal);
}

/** The organizer as the event store knew it at `asOf` (ISO 8601), or now. */
export function organizerState(
  api: Api,
  organizerId: string,
  asOf: string | null,
  signal: AbortSignal,
): Promise<OrganizerState> {
  const search = asOf ? `?${new URLSearchParams({ as_of: asOf })}` : "";
  return api.get<OrganizerState>(
    `/api/organizers/${encodeURIComponent(organizerId)}/state${search}`,
    signal,
  );
}

export function duplicateSubscriptions(api: Api, cursor: string | null, signal: AbortSignal) {
  return entries<DuplicateSubscription>(
    api,
    `/api/ops/duplicate-subscriptions?${query({}, cursor)}`,
    signal,
  );
}
